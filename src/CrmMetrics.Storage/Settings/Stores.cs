using CrmMetrics.Domain.Goals;
using CrmMetrics.Domain.Incentives;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Settings;

public sealed class GoalStore(StorageAccount account) : DocumentStore<Goal>(account, StorageNames.Tables.Goals, "goal");

/// <summary>
/// Incentive plans (<c>PUT /api/incentive-plans/{planId}</c>). A plan keeps its earlier dated versions inside it; each was
/// recorded in the audit trail when it was stored as the current one, so a change records the current version alone
/// (the trail would otherwise hold every version again with each change, and outgrow its rows).
/// </summary>
public sealed class IncentivePlanStore(StorageAccount account) : DocumentStore<IncentivePlan>(account, StorageNames.Tables.IncentivePlans, "incentive-plan")
{
    protected override System.Text.Json.Nodes.JsonNode? Audited(System.Text.Json.Nodes.JsonNode? document)
    {
        if (document is System.Text.Json.Nodes.JsonObject plan && plan.ContainsKey(EarlierVersions)) plan.Remove(EarlierVersions);
        return document;
    }

    private const string EarlierVersions = "earlierVersions";
}

public sealed class AlertRuleStore(StorageAccount account) : DocumentStore<CrmMetrics.Domain.Alerts.AlertRule>(account, StorageNames.Tables.AlertRules, "alert-rule");

/// <summary>Derived indicator definitions (<c>PUT /api/indicators/{id}</c>), keyed by their <c>derived.&lt;name&gt;</c> id.</summary>
public sealed class DerivedIndicatorStore(StorageAccount account) : DocumentStore<DerivedIndicator>(account, StorageNames.Tables.DerivedIndicators, "indicator");
