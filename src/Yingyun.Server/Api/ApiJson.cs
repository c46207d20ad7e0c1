using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace Yingyun.Server.Api;

/// <summary>Reading request bodies and answering problems (RFC 9457 problem+json) the same way on every endpoint.</summary>
internal static class ApiJson
{
    /// <summary>camelCase, case-insensitive names; numbers must be JSON numbers (the documented shapes, §8).</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { NumberHandling = JsonNumberHandling.Strict };

    /// <summary>The body as <typeparamref name="T"/>, or a 400 problem: <c>body</c> when it is not JSON at all, the
    /// field when a value has the wrong type (the serializer names its JSON path).</summary>
    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken) where T : class
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, default, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            return (null, BadRequest("body", $"the body is not JSON: {ex.Message}"));
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return (null, BadRequest("body", $"the body is a JSON {document.RootElement.ValueKind.ToString().ToLowerInvariant()}; expected an object"));
            try
            {
                return (document.RootElement.Deserialize<T>(Options), null);
            }
            catch (JsonException ex)
            {
                return (null, BadRequest(FieldOf(ex.Path) ?? "body", $"{ex.Path}: {ex.Message}"));
            }
        }
    }

    /// <summary>A 400 validation problem with <c>errors: { field: [message] }</c> (the ASP.NET Core shape).</summary>
    public static IResult BadRequest(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, detail: message, title: $"Invalid {field}");

    public static IResult NotFound(string what) => Results.Problem(detail: what, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static IResult Conflict(string what) => Results.Problem(detail: what, statusCode: StatusCodes.Status409Conflict, title: "Conflict");

    private static string? FieldOf(string? jsonPath) =>
        jsonPath is { Length: > 2 } && jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..].Split('.', '[')[0] : null;
}
