using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Hosting;
using Microsoft.AspNetCore.Http;

namespace CrmMetrics.Functions.Tests.Api;

/// <summary>If-Match and If-None-Match on a definition's version, as RFC 9110 (13.1.1, 13.1.2) reads them.</summary>
public class VersionPreconditionsTests
{
    private static (bool? Holds, ValidationErrors Errors) Judge(string? ifMatch, string? ifNoneMatch, int? current)
    {
        var context = new DefaultHttpContext();
        if (ifMatch is not null) context.Request.Headers.IfMatch = ifMatch;
        if (ifNoneMatch is not null) context.Request.Headers.IfNoneMatch = ifNoneMatch;
        var errors = new ValidationErrors();
        return (VersionPreconditions.Read(context.Request, errors)?.Holds(current), errors);
    }

    [Theory]
    [InlineData(null, null, null, true)]
    [InlineData(null, null, 4, true)]
    [InlineData("\"4\"", null, 4, true)]
    [InlineData("\"3\"", null, 4, false)]
    [InlineData("\"3\", \"4\"", null, 4, true)]
    [InlineData("\"3\",\"4\"", null, 4, true)]
    [InlineData("W/\"4\"", null, 4, false)]          // If-Match compares strongly
    [InlineData("\"abc\"", null, 4, false)]          // a tag this API never gave
    [InlineData("\"4\"", null, null, false)]         // nothing stored
    [InlineData("*", null, 4, true)]
    [InlineData("*", null, null, false)]
    [InlineData(null, "*", null, true)]
    [InlineData(null, "*", 1, false)]
    [InlineData(null, "W/\"4\"", 4, false)]          // If-None-Match compares weakly
    [InlineData(null, "\"5\"", 4, true)]
    [InlineData("\"4\"", "\"4\"", 4, false)]
    public void The_condition_holds_for_the_versions_it_names(string? ifMatch, string? ifNoneMatch, int? current, bool holds)
    {
        var (result, errors) = Judge(ifMatch, ifNoneMatch, current);
        Assert.True(errors.IsEmpty, errors.ToString());
        Assert.Equal(holds, result);
    }

    [Theory]
    [InlineData("4", null, "If-Match")]
    [InlineData("\"4", null, "If-Match")]
    [InlineData("\"4\"x", null, "If-Match")]
    [InlineData("*, \"4\"", null, "If-Match")]
    [InlineData(null, "W/4", "If-None-Match")]
    [InlineData("", null, "If-Match")]             // sent empty (an unset variable): not taken as no condition
    [InlineData(" , ", null, "If-Match")]
    [InlineData(null, "", "If-None-Match")]
    public void A_header_that_is_not_a_list_of_tags_is_refused_by_name(string? ifMatch, string? ifNoneMatch, string field)
    {
        var (result, errors) = Judge(ifMatch, ifNoneMatch, 4);
        Assert.Null(result);
        Assert.True(errors.Has(field), errors.ToString());
    }
}
