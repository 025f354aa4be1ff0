namespace CrmMetrics.Storage.Account;

/// <summary>Every table, queue and container the product uses, named in one place.</summary>
public static class StorageNames
{
    public static class Tables
    {
        public const string Facts = "Facts";
        public const string FactIds = "FactIds";
        public const string FactWrites = "FactWrites";
        public const string DirtyDays = "DirtyDays";
        public const string Customers = "Customers";
        public const string ChangeHeads = "ChangeHeads";
        public const string Complaints = "Complaints";
        public const string Observations = "Observations";
        public const string RejectedEvents = "RejectedEvents";
        public const string LifecycleLedger = "LifecycleLedger";
        public const string Snapshots = "Snapshots";
        public const string SnapshotVersions = "SnapshotVersions";
        public const string StalePeriods = "StalePeriods";
        public const string Runs = "Runs";
        public const string Goals = "Goals";
        public const string IncentivePlans = "IncentivePlans";
        public const string AlertRules = "AlertRules";
        public const string DerivedIndicators = "DerivedIndicators";
        public const string Alerts = "Alerts";
        public const string SentMessages = "SentMessages";

        /// <summary>Facts about the deployment's stored data itself (the time zone its days were cut in).</summary>
        public const string Deployment = "Deployment";

        public static readonly IReadOnlyList<string> All =
        [
            Facts, FactIds, FactWrites, DirtyDays, Customers, ChangeHeads, Complaints, Observations, RejectedEvents,
            LifecycleLedger, Snapshots, SnapshotVersions, StalePeriods, Runs, Goals, IncentivePlans, AlertRules, DerivedIndicators, Alerts, SentMessages, Deployment,
        ];
    }

    public static class Queues
    {
        public const string CrmEvents = "crm-events";
        public const string KpiRuns = "kpi-runs";
        public const string KpiDays = "kpi-days";
        public const string KpiPeriods = "kpi-periods";
        public const string KpiDone = "kpi-done";
        public const string ExecutiveAlerts = "executive-alerts";

        public static string Poison(string queue) => queue + "-poison";

        // Where the host moves a run step's message after its last failed attempt (constants, for triggers).
        public const string KpiRunsPoison = KpiRuns + "-poison";
        public const string KpiDaysPoison = KpiDays + "-poison";
        public const string KpiPeriodsPoison = KpiPeriods + "-poison";
        public const string KpiDonePoison = KpiDone + "-poison";

        public static readonly IReadOnlyList<string> All = [CrmEvents, KpiRuns, KpiDays, KpiPeriods, KpiDone];
    }

    public static class Containers
    {
        public const string Partials = "crm-partials";

        /// <summary>The per-UTC-day fact logs (append blobs).</summary>
        public const string FactLogs = "crm-fact-logs";

        /// <summary>The change feed of customer timelines and complaint cases: one append blob per 10-second bucket.</summary>
        public const string StateFeed = "crm-state-feed";

        /// <summary>The container the Functions host itself uses for timer leases; the local runtime uses it the same way.</summary>
        public const string Hosts = "azure-webjobs-hosts";

        /// <summary>Blobs whose leases serialise changes across instances (see <c>DefinitionLock</c>).</summary>
        public const string Locks = "crm-locks";

        public static readonly IReadOnlyList<string> All = [Partials, FactLogs, StateFeed, Hosts, Locks];
    }
}
