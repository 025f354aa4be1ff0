using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Functions.Hosting;

/// <summary>The one error shape: RFC 9457 problem details, with <c>errors</c> naming fields for validation.</summary>
public static class Problems
{
    public static IResult Validation(ValidationErrors errors, string? detail = null) =>
        TypedResults.ValidationProblem(errors.ToDictionary(), detail: detail ?? "One or more fields are not valid: " + errors,
            title: "The request is not valid.", type: "https://tools.ietf.org/html/rfc9110#section-15.5.1");

    public static IResult Validation(string field, string message) => Validation(ValidationErrors.Single(field, message));

    public static IResult BadRequest(string detail) => Problem(400, "The request is not valid.", detail);
    public static IResult Unauthorized(string detail) => Problem(401, "Unauthorized", detail);
    public static IResult Forbidden(string detail) => Problem(403, "Forbidden", detail);
    public static IResult NotFound(string detail) => Problem(404, "Not Found", detail);
    public static IResult Conflict(string detail) => Problem(409, "Conflict", detail);
    public static IResult PayloadTooLarge(string detail) => Problem(413, "Payload Too Large", detail);
    public static IResult UnsupportedMediaType(string detail) => Problem(415, "Unsupported Media Type", detail);
    public static IResult Unavailable(string detail) => Problem(503, "Service Unavailable", detail);

    public static IResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title);
}
