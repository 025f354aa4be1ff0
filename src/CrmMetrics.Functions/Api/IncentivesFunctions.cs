using System.Text.Json.Nodes;
using CrmMetrics.Domain.Incentives;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Runs;
using Microsoft.Azure.Functions.Worker;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Storage.Settings;
using CrmMetrics.Storage.Snapshots;
using System.Text.Json.Serialization;

namespace CrmMetrics.Functions.Api;

/// <summary>Incentive plans (<c>/api/incentive-plans/{planId}</c>) and staff scorecards (<c>/api/staff/{staffId}/scorecard</c>).</summary>
public sealed class IncentivesFunctions(IncentivePlanStore plans, DefinitionLock definitionLock, StalePeriodStore stale, SnapshotReader reader, Indicators.DerivedIndicatorService derived, CrmMetricsSettings settings, TimeProvider clock,
    Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
{
    public sealed record MeasureDto(string Indicator);
    public sealed record ParticipantDto(string StaffId, decimal Quota);
    public sealed record TierDto(decimal From, decimal? To, decimal Rate);
    public sealed record GateDto(string Indicator, decimal Min, decimal Factor);

    /// <param name="EffectiveFrom">The first period this version pays; null: every period before the next version.</param>
    /// <param name="PlanVersion">The plan's version (ETag) at which this version was stored as the current one: the <c>planVersion</c> of the statements it pays.</param>
    public sealed record VersionDto(string? EffectiveFrom, int PlanVersion, string Name, string Grain, MeasureDto Measure, IReadOnlyList<ParticipantDto> Participants,
        IReadOnlyList<TierDto> Tiers, decimal? Cap, IReadOnlyList<GateDto> Gates);

    /// <summary>The plan as it pays from <paramref name="EffectiveFrom"/> on (the current version), and every version, oldest first (read-only: a PUT takes it as shown).</summary>
    /// <param name="EffectiveFrom">The first period the current version pays; null: every period (with no earlier versions) or every period before a later version.</param>
    public sealed record PlanDto(string PlanId, string Name, string Grain, MeasureDto Measure, IReadOnlyList<ParticipantDto> Participants, IReadOnlyList<TierDto> Tiers,
        decimal? Cap, IReadOnlyList<GateDto> Gates, string? EffectiveFrom, IReadOnlyList<VersionDto> Versions)
    {
        public static PlanDto From(IncentivePlan p, int version) => new(p.PlanId, p.Name, Grains.Key(p.Grain), new MeasureDto(p.MeasureIndicator), ParticipantsOf(p), TiersOf(p),
            p.Cap, GatesOf(p), p.EffectiveFrom, p.Versions(version).Select(v => new VersionDto(v.EffectiveFrom, v.PlanVersion!.Value, v.Name, Grains.Key(v.Grain),
                new MeasureDto(v.MeasureIndicator), ParticipantsOf(v), TiersOf(v), v.Cap, GatesOf(v))).ToList());

        /// <summary>
        /// A plan as the audit trail recorded it (as stored, its measure in <c>measureIndicator</c>) in the shape the API takes
        /// and shows it, <c>measure: { "indicator" }</c>; every other member as recorded (an earlier version inside a plan
        /// recorded before the trail left them out likewise). Records of every age read alike, since stored rows are not rewritten.
        /// </summary>
        public static JsonNode? AsSent(JsonNode? recorded)
        {
            if (recorded is not JsonObject plan) return recorded;
            var sent = new JsonObject();
            foreach (var (name, value) in plan)
            {
                if (name == StoredMeasure) sent["measure"] = new JsonObject { ["indicator"] = value?.DeepClone() };
                else if (name == StoredEarlierVersions && value is JsonArray versions) sent[name] = new JsonArray(versions.Select(AsSent).ToArray());
                else sent[name] = value?.DeepClone();
            }
            return sent;
        }

        // The members as the document store writes them: camel case, as the API's own JSON.
        private static readonly string StoredMeasure = System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(nameof(IncentivePlan.MeasureIndicator));
        private static readonly string StoredEarlierVersions = System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(nameof(IncentivePlan.EarlierVersions));

        private static List<ParticipantDto> ParticipantsOf(IncentivePlan p) => p.Participants.Select(x => new ParticipantDto(x.StaffId, x.Quota)).ToList();
        private static List<TierDto> TiersOf(IncentivePlan p) => p.Tiers.Select(t => new TierDto(t.From, t.To, t.Rate)).ToList();
        private static List<GateDto> GatesOf(IncentivePlan p) => p.Gates.Select(g => new GateDto(g.Indicator, g.Min, g.Factor)).ToList();
    }

    /// <param name="Currency">The reporting currency the payout and the statement's amounts are in.</param>
    /// <param name="CalendarChange">Only when the period is not served because its key means other days since it was computed (<see cref="SnapshotReader.CalendarChange"/>).</param>
    public sealed record ScorecardResponse(string StaffId, string Period, string Grain, double? QuotaAttainment, object? Payout, JsonNode? Statement,
        IReadOnlyList<SnapshotRowDto> Indicators, IReadOnlyList<GoalsFunctions.AttainmentDto> Goals, string Currency,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CalendarChange = null);

    [Function("IncentivePlans")]
    [ApiOperation("GET", "ListIncentivePlans", Access.Reader, Summary = "Every incentive plan.", Response = typeof(List<PlanDto>))]
    public async Task<IResult> ListAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "api/incentive-plans")] HttpRequest request, CancellationToken ct) =>
        TypedResults.Ok((await plans.ListVersionedAsync(ct)).OrderBy(p => p.Document.PlanId, StringComparer.Ordinal).Select(p => PlanDto.From(p.Document, p.Version)).ToList());

    [Function("IncentivePlan")]
    [ApiOperation("GET", "GetIncentivePlan", Access.Reader, Summary = "An incentive plan.", Response = typeof(PlanDto), Problems = [404])]
    [ApiOperation("PUT", "PutIncentivePlan", Access.Admin,
        Summary = "Create or replace an incentive plan: participants with quotas, marginal tiers in percent of quota, optional cap and gates; " +
                  "with effectiveFrom (a period key of its grain), a version that pays that period and later ones, the versions before it kept.",
        Response = typeof(PlanDto), AlsoStatus = 201, Problems = [400, 412, 413, 415])]
    [ApiOperation("DELETE", "DeleteIncentivePlan", Access.Admin, Summary = "Delete an incentive plan.", Status = 204, Problems = [400, 404, 412])]
    public async Task<IResult> PlanAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "put", "delete", Route = "api/incentive-plans/{planId}")] HttpRequest request,
        string planId, CancellationToken ct)
    {
        if (HttpMethods.IsPut(request.Method)) return await PutAsync(planId, request, ct);
        if (HttpMethods.IsDelete(request.Method))
        {
            if (VersionPreconditions.Read(request, out var refused) is not { } condition) return refused;
            await using var held = await definitionLock.AcquireAsync(ct);
            // Marked before the delete too: a delete retried after one that died after it finds no plan (found by a review).
            if (await plans.GetAsync(planId, ct) is not { } deleted
                || !await plans.DeleteAsync(planId, Security.ApiKeyAuthorization.ActorOf(request.HttpContext), condition, ct,
                    beforeChange: () => stale.MarkAsync(GoalsFunctions.DuePeriods(deleted.Grain, null, settings, clock), ct)))
                return Problems.NotFound($"There is no incentive plan '{JsonFields.Truncate(planId)}'.");
            // Not cancelled with the request, with the storage clients' full tries: the plan is gone, and its periods must be marked.
            using (Storage.Account.StorageAnswerLimit.Lifted()) await stale.MarkAsync(GoalsFunctions.DuePeriods(deleted.Grain, null, settings, clock), CancellationToken.None);
            return TypedResults.NoContent();
        }
        if (await plans.GetVersionedAsync(planId, ct) is not { } found) return Problems.NotFound($"There is no incentive plan '{JsonFields.Truncate(planId)}'.");
        VersionPreconditions.Tag(request, found.Version);
        return TypedResults.Ok(PlanDto.From(found.Document, found.Version));
    }

    [Function("StaffScorecard")]
    [ApiOperation("GET", "GetStaffScorecard", Access.Reader, RequiredQuery = ["period"], Query = ["grain", "period"], Summary = "A staff member's quota attainment, payout with its statement, indicators and goals for a period.",
        Response = typeof(ScorecardResponse), Problems = [400])]
    public Task<IResult> ScorecardAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "api/staff/{staffId}/scorecard")] HttpRequest request, string staffId,
        CancellationToken ct) => ReadScorecardAsync(staffId, request, ct);

    private async Task<IResult> PutAsync(string planId, HttpRequest request, CancellationToken ct)
    {
        var (body, problem) = await JsonBodies.ReadObjectAsync(request, allowEmpty: false, ct);
        if (problem is not null) return problem;
        using var bodyScope = body;
        if (VersionPreconditions.Read(request, out var refused) is not { } condition) return refused;
        // Checked against the other definitions and written while no other change to them runs.
        await using var held = await definitionLock.AcquireAsync(ct);
        var errors = new ValidationErrors();
        var plan = IncentivePlan.Read(planId, body!.Root, settings.Calendar, await derived.ResolverAsync(ct), errors);
        if (plan is null) return Problems.Validation(errors);
        var before = await plans.GetVersionedAsync(planId, ct);
        if (VersionsEdited(body.Root, before) is { } edited) return Problems.Validation("versions", edited);
        // A dated version keeps the versions that pay the periods before it; an undated one replaces them all.
        var document = plan.Over(before?.Document, before?.Version ?? 0, settings.Calendar, errors);
        if (document is null) return Problems.Validation(errors);

        // One payout per staff member and period: a staff member belongs to one plan of a grain in any period.
        if (SharedStaff(plan, await plans.ListVersionedAsync(ct)) is { } refusal) return Problems.Validation(refusal);
        bool created;
        int version;
        var was = before?.Document is { } old && old.Grain != plan.Grain ? GoalsFunctions.DuePeriods(old.Grain, null, settings, clock) : [];
        var due = GoalsFunctions.DuePeriods(plan.Grain, null, settings, clock).Where(key => plan.StartsBy(settings.Calendar.Parse(key, plan.Grain))).Concat(was).Distinct().ToList();
        try
        {
            // Marked before the write as well as after it: a put that died after its write, retried, finds the same document (found by a review).
            (created, version) = await plans.PutVersionedAsync(planId, document, Security.ApiKeyAuthorization.ActorOf(request.HttpContext), condition, ct,
                beforeChange: () => stale.MarkAsync(due, ct));
        }
        catch (Storage.Account.DocumentTooLargeException e)
        {
            // Refused before anything is written. A plan holds its earlier versions, so dated versions of a large plan add up.
            var versions = document.Versions(before?.Version ?? 0).Count;
            return Problems.Validation(plan.EffectiveFrom is null ? "participants" : "effectiveFrom",
                $"the plan with its {versions} version(s) would take {e.Characters:N0} characters of JSON, more than the {e.Limit:N0} a plan may hold" +
                (plan.EffectiveFrom is null ? "" : "; versions from an earlier effectiveFrom are kept: send one from an earlier period to replace them, or the plan without effectiveFrom to replace every version"));
        }
        VersionPreconditions.Tag(request, version);
        // The same document again changes nothing; a plan moved to another grain leaves its payouts in the old one's periods until they are computed again.
        // A dated version marks only the periods it pays: those before it keep what they were paid.
        if (before?.Version != version)
        {
            using (Storage.Account.StorageAnswerLimit.Lifted()) await stale.MarkAsync(due, CancellationToken.None);
        }
        var dto = PlanDto.From(document, version);
        return created ? TypedResults.Created($"/api/incentive-plans/{planId}", dto) : TypedResults.Ok(dto);
    }

    /// <summary>
    /// Why the body's <c>versions</c> cannot be taken, or null. It is read-only: a plan read with GET is sent back as it is,
    /// so it must list the stored versions as GET shows them. Other versions in it (an earlier version's quota changed
    /// there, or a list read before another change) would otherwise be ignored without a word, and the client believe
    /// them stored.
    /// </summary>
    private string? VersionsEdited(System.Text.Json.JsonElement body, (IncentivePlan Document, int Version)? stored)
    {
        if (!body.TryGetProperty("versions", out var sent) || sent.ValueKind == System.Text.Json.JsonValueKind.Null) return null;
        var shown = System.Text.Json.JsonSerializer.SerializeToElement(
            stored is { } s ? PlanDto.From(s.Document, s.Version).Versions : [], json.Value.SerializerOptions);
        return System.Text.Json.JsonElement.DeepEquals(sent, shown) ? null
            : "is read-only and does not list the plan's versions as they are stored (GET shows them): it was changed, or read before another change. " +
              "Leave it out; to change the version that pays from a period on, send that version with its effectiveFrom";
    }

    /// <summary>
    /// The participants of the version <paramref name="plan"/> (just read) that a version of another plan of its grain
    /// already has in a period it pays; null when none.
    /// </summary>
    private ValidationErrors? SharedStaff(IncentivePlan plan, IReadOnlyList<(IncentivePlan Document, int Version)> all)
    {
        var errors = new ValidationErrors();
        var others = all.Where(p => p.Document.PlanId != plan.PlanId && p.Document.Grain == plan.Grain)
            .SelectMany(p => p.Document.VersionsPayingFrom(plan.EffectiveFrom, p.Version, settings.Calendar)).ToList();
        for (var i = 0; i < plan.Participants.Count; i++)
        {
            if (others.FirstOrDefault(o => o.Participants.Any(x => x.StaffId == plan.Participants[i].StaffId)) is { } other)
                errors.Add($"participants[{i}].staffId", $"'{plan.Participants[i].StaffId}' is already in plan '{other.PlanId}' for the same grain" +
                                                         (other.EffectiveFrom is { } from ? $" (in its version from {from})" : ""));
        }
        return errors.IsEmpty ? null : errors;
    }

    private async Task<IResult> ReadScorecardAsync(string staffId, HttpRequest request, CancellationToken ct)
    {
        var q = new QueryParameters(request, new ValidationErrors(), settings.Calendar);
        if (!Domain.Facts.Vocabulary.IsKey(staffId)) q.Errors.Add("staffId", "is not a staff id");
        var period = q.Period("period", q.Grain());
        if (period is null && !q.Errors.Has("period") && !q.Errors.Has("grain")) q.Errors.Add("period", "is required (a period key such as 2026-11)");
        if (!q.Errors.IsEmpty) return Problems.Validation(q.Errors);

        var scope = "staff:" + staffId;
        var read = await reader.ReadPeriodAsync(period!, new SnapshotFilter(Scope: scope), ct);
        var indicators = read.Rows;
        // The goals from the same version as the indicators, without reading the period's pointer again.
        var goals = (read.Served is { } served ? (await reader.ReadPeriodAsync(period!, new SnapshotFilter(Indicator: "goal.attainment"), ct, served: served)).Rows : [])
            .Where(r => r.Details?["scope"]?.GetValue<string>() == scope).ToList();
        var quota = indicators.FirstOrDefault(r => r.Indicator == "staff.quota-attainment");
        var payout = indicators.FirstOrDefault(r => r.Indicator == "staff.incentive-payout");
        return TypedResults.Ok(new ScorecardResponse(staffId, period!.Key, Grains.Key(period.Grain), quota?.Value, payout?.Exact is { } exact ? SnapshotRowDto.Trimmed(exact) : payout?.Value,
            payout?.Details?.DeepClone(), indicators.Select(SnapshotRowDto.From).ToList(), goals.Select(GoalsFunctions.AttainmentDto.From).ToList(), settings.ReportingCurrency,
            read.CalendarChange));
    }
}
