namespace ScanService.Api.Rest;

/// <summary>
/// A request the REST front end refuses before any inference (wrong content type, missing field, bad tensor,
/// too many images). The message is written for the client and is shown as is.
/// </summary>
public sealed class InvalidRequestException(int statusCode, string title, string message) : Exception(message)
{
    public int StatusCode => statusCode;
    public string Title => title;

    public static InvalidRequestException BadRequest(string message) =>
        new(StatusCodes.Status400BadRequest, "The request is invalid", message);

    public static InvalidRequestException UnsupportedMediaType(string message) =>
        new(StatusCodes.Status415UnsupportedMediaType, "Unsupported content type", message);

    public static InvalidRequestException TooLarge(string message) =>
        new(StatusCodes.Status413PayloadTooLarge, "The request is too large", message);
}
