using System.Text.Json.Nodes;
using CrmMetrics.Domain.Incentives;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Security;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Storage.Settings;
using CrmMetrics.Storage.Snapshots;

namespace CrmMetrics.Functions.Api;

/// <summary>Incentive plans (<c>/api/incentive-plans/{planId}</c>) and staff scorecards (<c>/api/staff/{staffId}/scorecard</c>).</summary>
public static class IncentivesEndpoints
{
    public sealed record MeasureDto(string Indicator);
    public sealed record ParticipantDto(string StaffId, decimal Quota);
    public sealed record TierDto(decimal From, decimal? To, decimal Rate);
    public sealed record GateDto(string Indicator, decimal Min, decimal Factor);

    public sealed record PlanDto(string PlanId, string Name, string Grain, MeasureDto Measure, IReadOnlyList<ParticipantDto> Participants, IReadOnlyList<TierDto> Tiers,
        decimal? Cap, IReadOnlyList<GateDto> Gates)
    {
        public static PlanDto From(IncentivePlan p) => new(p.PlanId, p.Name, Grains.Key(p.Grain), new MeasureDto(p.MeasureIndicator),
            p.Participants.Select(x => new ParticipantDto(x.StaffId, x.Quota)).ToList(), p.Tiers.Select(t => new TierDto(t.From, t.To, t.Rate)).ToList(),
            p.Cap, p.Gates.Select(g => new GateDto(g.Indicator, g.Min, g.Factor)).ToList());
    }

    public sealed record ScorecardResponse(string StaffId, string Period, string Grain, double? QuotaAttainment, object? Payout, JsonNode? Statement,
        IReadOnlyList<SnapshotRowDto> Indicators, IReadOnlyList<GoalsEndpoints.AttainmentDto> Goals);

    public static void MapIncentivesEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapGet("/incentive-plans", async (IncentivePlanStore plans, CancellationToken ct) =>
                TypedResults.Ok((await plans.ListAsync(ct)).OrderBy(p => p.PlanId, StringComparer.Ordinal).Select(PlanDto.From).ToList()))
            .RequireApiRole(Role.Reader).WithName("ListIncentivePlans").WithSummary("Every incentive plan.").Produces<List<PlanDto>>();
        api.MapGet("/incentive-plans/{planId}", async (string planId, IncentivePlanStore plans, CancellationToken ct) =>
                await plans.GetAsync(planId, ct) is { } plan ? TypedResults.Ok(PlanDto.From(plan)) : Problems.NotFound($"There is no incentive plan '{JsonFields.Truncate(planId)}'."))
            .RequireApiRole(Role.Reader).WithName("GetIncentivePlan").WithSummary("An incentive plan.").Produces<PlanDto>().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPut("/incentive-plans/{planId}", PutAsync).RequireApiRole(Role.Admin).WithName("PutIncentivePlan")
            .WithSummary("Create or replace an incentive plan: participants with quotas, marginal tiers in percent of quota, optional cap and gates.")
            .Produces<PlanDto>().Produces<PlanDto>(StatusCodes.Status201Created).ProducesValidationProblem();
        api.MapDelete("/incentive-plans/{planId}", async (string planId, IncentivePlanStore plans, StalePeriodStore stale, CrmMetricsSettings settings, TimeProvider clock, CancellationToken ct) =>
            {
                if (await plans.GetAsync(planId, ct) is not { } plan || !await plans.DeleteAsync(planId, ct))
                    return Problems.NotFound($"There is no incentive plan '{JsonFields.Truncate(planId)}'.");
                await stale.MarkAsync(GoalsEndpoints.DuePeriods(plan.Grain, null, settings, clock), ct);
                return TypedResults.NoContent();
            })
            .RequireApiRole(Role.Admin).WithName("DeleteIncentivePlan").WithSummary("Delete an incentive plan.")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/staff/{staffId}/scorecard", ScorecardAsync).RequireApiRole(Role.Reader).WithName("GetStaffScorecard")
            .WithSummary("A staff member's quota attainment, payout with its statement, indicators and goals for a period.")
            .Produces<ScorecardResponse>().ProducesValidationProblem();
    }

    private static async Task<IResult> PutAsync(string planId, HttpRequest request, IncentivePlanStore plans, StalePeriodStore stale, Indicators.DerivedIndicatorService derived,
        CrmMetricsSettings settings, TimeProvider clock, CancellationToken ct)
    {
        var (body, problem) = await JsonBodies.ReadObjectAsync(request, allowEmpty: false, ct);
        if (problem is not null) return problem;
        using var bodyScope = body;
        var errors = new ValidationErrors();
        var plan = IncentivePlan.Read(planId, body!.Root, await derived.ResolverAsync(ct), errors);
        if (plan is null) return Problems.Validation(errors);

        // One payout per staff member and period: a staff member belongs to one plan of a grain.
        var others = (await plans.ListAsync(ct)).Where(p => p.PlanId != planId && p.Grain == plan.Grain).ToList();
        for (var i = 0; i < plan.Participants.Count; i++)
        {
            if (others.FirstOrDefault(o => o.Participants.Any(x => x.StaffId == plan.Participants[i].StaffId)) is { } other)
                errors.Add($"participants[{i}].staffId", $"'{plan.Participants[i].StaffId}' is already in plan '{other.PlanId}' for the same grain");
        }
        if (!errors.IsEmpty) return Problems.Validation(errors);

        var created = await plans.PutAsync(planId, plan, ct);
        await stale.MarkAsync(GoalsEndpoints.DuePeriods(plan.Grain, null, settings, clock), ct);
        return created ? TypedResults.Created($"/api/incentive-plans/{planId}", PlanDto.From(plan)) : TypedResults.Ok(PlanDto.From(plan));
    }

    private static async Task<IResult> ScorecardAsync(string staffId, HttpContext context, SnapshotReader reader, CrmMetricsSettings settings, CancellationToken ct)
    {
        var q = new QueryParameters(context.Request, new ValidationErrors(), settings.Calendar);
        if (!Domain.Facts.Vocabulary.IsKey(staffId)) q.Errors.Add("staffId", "is not a staff id");
        var period = q.Period("period", q.Grain());
        if (period is null && !q.Errors.Has("period") && !q.Errors.Has("grain")) q.Errors.Add("period", "is required (a period key such as 2026-11)");
        if (!q.Errors.IsEmpty) return Problems.Validation(q.Errors);

        var scope = "staff:" + staffId;
        var indicators = await reader.ReadAllAsync(period!, new SnapshotFilter(Scope: scope), ct);
        var goals = (await reader.ReadAllAsync(period!, new SnapshotFilter(Indicator: "goal.attainment"), ct))
            .Where(r => r.Details?["scope"]?.GetValue<string>() == scope).ToList();
        var quota = indicators.FirstOrDefault(r => r.Indicator == "staff.quota-attainment");
        var payout = indicators.FirstOrDefault(r => r.Indicator == "staff.incentive-payout");
        return TypedResults.Ok(new ScorecardResponse(staffId, period!.Key, Grains.Key(period.Grain), quota?.Value, payout?.Exact is { } exact ? exact : payout?.Value,
            payout?.Details?.DeepClone(), indicators.Select(SnapshotRowDto.From).ToList(), goals.Select(GoalsEndpoints.AttainmentDto.From).ToList()));
    }
}
