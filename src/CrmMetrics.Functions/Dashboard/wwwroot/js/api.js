// The reader API as the page uses it: the key in the x-api-key header (never in the address), JSON
// in and problem details out, one request per address while it is remembered. The browser's HTTP
// cache keeps each response with its ETag and revalidates it, so asking again costs a 304. A request
// the app has not answered within the timeout is given up, as if the app were unreachable.

const keyName = 'crm-metrics.reader-key';

/** How long a request may wait for the app's answer (tests shorten it through <code>window.crmMetricsApiTimeoutMs</code>). */
export const defaultTimeoutMs = 20_000;

function timeoutMs() {
  const chosen = Number(globalThis.crmMetricsApiTimeoutMs);
  return Number.isFinite(chosen) && chosen > 0 ? chosen : defaultTimeoutMs;
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? (status ? `HTTP ${status}` : 'no answer'));
    this.status = status;
    this.problem = problem;
  }

  /** The key is missing, unknown, or lacks the reader role: the page asks for another. */
  get isKeyProblem() { return this.status === 401 || this.status === 403; }
}

export class Api {
  #memo = new Map();
  #rememberFor = 5 * 60 * 1000;

  get key() { return sessionStorage.getItem(keyName); }
  set key(value) {
    if (value) sessionStorage.setItem(keyName, value);
    else sessionStorage.removeItem(keyName);
    this.forget();
  }

  /** Forgets remembered answers, so the next request asks the app again (the HTTP cache still saves the body). */
  forget() { this.#memo.clear(); }

  /** GET a path of the app, remembered for a few minutes: panels that need the same figures share one request. */
  get(path) {
    const remembered = this.#memo.get(path);
    if (remembered && Date.now() - remembered.at < this.#rememberFor) return remembered.answer;
    const answer = this.#fetch(path);
    this.#memo.set(path, { at: Date.now(), answer });
    answer.catch(() => this.#memo.delete(path));
    return answer;
  }

  /** Every page of a listing that pages with continuationToken. */
  async all(path) {
    const items = [];
    let token = null;
    do {
      const page = await this.get(token ? `${path}&continuationToken=${encodeURIComponent(token)}` : path);
      items.push(...page.items);
      token = page.continuationToken;
    } while (token);
    return items;
  }

  async #fetch(path) {
    // The signal covers the body too: a response that starts and then stalls is given up as well.
    const signal = AbortSignal.timeout(timeoutMs());
    let response;
    try {
      response = await fetch(path, { headers: { 'x-api-key': this.key ?? '', Accept: 'application/json' }, signal });
    } catch {
      throw new ApiError(0, null);
    }
    if (!response.ok) {
      let problem = null;
      try { problem = await response.json(); } catch { /* not problem details */ }
      throw new ApiError(response.status, problem);
    }
    try {
      return await response.json();
    } catch (error) {
      if (signal.aborted) throw new ApiError(0, null);
      throw error;
    }
  }
}

/** Query text from an object, leaving out empty values. */
export function query(values) {
  const parameters = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined && value !== null && value !== '') parameters.set(name, value);
  return parameters.toString();
}
