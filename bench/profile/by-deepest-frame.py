# Groups the samples of a dotnet-trace speedscope file by the deepest CrmMetrics frame on their
# stack (threads waiting are left out). Usage: by-deepest-frame.py trace.speedscope.json [rows=40]
import json,collections,sys,re
d=json.load(open(sys.argv[1]))
frames=[f['name'] for f in d['shared']['frames']]
WAIT=('Wait','Sleep','epoll','LowLevelLifoSemaphore','SemaphoreSlim','WaitOne','WaitForSocketEvents','Interop+Sys.Read','PollGC','Socket.Poll','Gen2GcCallback','RunFinalizers','WaitThreadStart','GateThreadStart','Monitor.Enter','ReceiveAsync','Interop+Sys.Poll','System.Threading.Timer','TimerQueue')
c=collections.Counter(); total=0
for p in d['profiles']:
    stack=[]; last=None
    for e in p['events']:
        t=e['at']
        if last is not None and stack and t>last:
            names=[frames[f] for f in stack]
            if not any(k in n for n in names[-4:] for k in WAIT):
                total+=t-last
                key='(no CrmMetrics frame)'
                for n in reversed(names):
                    if 'CrmMetrics' in n and 'AsyncStateMachineBox' not in n and 'ExecutionContext' not in n:
                        key=n.split('!')[-1][:130]; break
                c[key]+=t-last
        last=t
        if e['type']=='O': stack.append(e['frame'])
        else: stack.pop()
print('total',round(total))
for n,w in c.most_common(int(sys.argv[2]) if len(sys.argv)>2 else 40): print(f"{w/total*100:5.1f}% {round(w):6} {n}")
