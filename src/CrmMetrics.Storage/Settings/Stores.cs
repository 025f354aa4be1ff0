using CrmMetrics.Domain.Goals;
using CrmMetrics.Domain.Incentives;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Settings;

public sealed class GoalStore(StorageAccount account) : DocumentStore<Goal>(account, StorageNames.Tables.Goals, "goal");

public sealed class IncentivePlanStore(StorageAccount account) : DocumentStore<IncentivePlan>(account, StorageNames.Tables.IncentivePlans, "incentive-plan");

public sealed class AlertRuleStore(StorageAccount account) : DocumentStore<CrmMetrics.Domain.Alerts.AlertRule>(account, StorageNames.Tables.AlertRules, "alert-rule");

/// <summary>Derived indicator definitions (<c>PUT /api/indicators/{id}</c>), keyed by their <c>derived.&lt;name&gt;</c> id.</summary>
public sealed class DerivedIndicatorStore(StorageAccount account) : DocumentStore<DerivedIndicator>(account, StorageNames.Tables.DerivedIndicators, "indicator");
