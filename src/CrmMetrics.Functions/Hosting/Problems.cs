using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Functions.Hosting;

/// <summary>The one error shape: RFC 9457 problem details, with <c>errors</c> naming fields for validation.</summary>
public static class Problems
{
    public static IResult Validation(ValidationErrors errors, string? detail = null) =>
        TypedResults.ValidationProblem(errors.ToDictionary(), detail: detail ?? "One or more fields are not valid: " + errors,
            title: "The request is not valid.", type: TypeOf(400));

    public static IResult Validation(string field, string message) => Validation(ValidationErrors.Single(field, message));

    public static IResult BadRequest(string detail) => Problem(400, "The request is not valid.", detail);
    public static IResult Unauthorized(string detail) => Problem(401, "Unauthorized", detail);
    public static IResult Forbidden(string detail) => Problem(403, "Forbidden", detail);
    public static IResult NotFound(string detail) => Problem(404, "Not Found", detail);
    public static IResult Conflict(string detail) => Problem(409, "Conflict", detail);
    public static IResult PreconditionFailed(string detail) => Problem(412, "Precondition Failed", detail);
    public static IResult PayloadTooLarge(string detail) => Problem(413, "Payload Too Large", detail);
    public static IResult UnsupportedMediaType(string detail) => Problem(415, "Unsupported Media Type", detail);
    public static IResult Unavailable(string detail) => Problem(503, "Service Unavailable", detail);

    /// <summary>A 503 whose problem details carry members of their own (what a request did before storage failed).</summary>
    public static IResult Unavailable(string detail, IDictionary<string, object?> extensions) =>
        TypedResults.Problem(detail: detail, statusCode: 503, title: "Service Unavailable", type: TypeOf(503), extensions: extensions);

    public static IResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, type: TypeOf(status));

    /// <summary>
    /// The problem type for a status: the section of the RFC that defines it. ASP.NET Core fills in
    /// only some statuses (not 413 or 429), and the contract gives every problem a <c>type</c>.
    /// </summary>
    public static string TypeOf(int status) => status switch
    {
        400 => "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        401 => "https://tools.ietf.org/html/rfc9110#section-15.5.2",
        403 => "https://tools.ietf.org/html/rfc9110#section-15.5.4",
        404 => "https://tools.ietf.org/html/rfc9110#section-15.5.5",
        405 => "https://tools.ietf.org/html/rfc9110#section-15.5.6",
        406 => "https://tools.ietf.org/html/rfc9110#section-15.5.7",
        409 => "https://tools.ietf.org/html/rfc9110#section-15.5.10",
        412 => "https://tools.ietf.org/html/rfc9110#section-15.5.13",
        413 => "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        415 => "https://tools.ietf.org/html/rfc9110#section-15.5.16",
        421 => "https://tools.ietf.org/html/rfc9110#section-15.5.20",
        429 => "https://tools.ietf.org/html/rfc6585#section-4",
        500 => "https://tools.ietf.org/html/rfc9110#section-15.6.1",
        502 => "https://tools.ietf.org/html/rfc9110#section-15.6.3",
        503 => "https://tools.ietf.org/html/rfc9110#section-15.6.4",
        _ => "about:blank",
    };
}
