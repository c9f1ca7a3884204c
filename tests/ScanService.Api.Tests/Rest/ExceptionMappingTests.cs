using Microsoft.AspNetCore.Http;
using ScanService.Api.Classifier;
using ScanService.Core.Preprocessing;

namespace ScanService.Api.Tests.Rest;

/// <summary>The one table that turns exceptions into HTTP errors.</summary>
public class ExceptionMappingTests
{
    public static TheoryData<Exception, int> Mapped => new()
    {
        { new ImageDecodeException(ImageDecodeError.Corrupt, "The PNG image is truncated."), 400 },
        { new ImageInBatchException(2, "field 'images', file 'x.png'", new ImageDecodeException(ImageDecodeError.Empty, "The image is empty (0 bytes).")), 400 },
        { new InvalidInferenceOptionsException("maxExit must be between 1 and 4, got 9"), 400 },
        { InvalidRequestException.UnsupportedMediaType("text/plain is not an image"), 415 },
        { InvalidRequestException.TooLarge("too many images"), 413 },
        { new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge), 413 },
        { new BadHttpRequestException("Failed to bind parameter \"int? maxExit\" from \"deep\"."), 400 },
        { new ModelNotReadyException("no model is loaded"), 503 },
    };

    [Theory]
    [MemberData(nameof(Mapped))]
    public void Known_exceptions_map_to_their_status_with_their_message_for_the_client(Exception exception, int status)
    {
        var problem = ScanExceptionHandler.Map(exception);
        Assert.Equal(status, problem.Status);
        Assert.False(string.IsNullOrWhiteSpace(problem.Title));
        Assert.False(string.IsNullOrWhiteSpace(problem.Detail));
    }

    [Fact]
    public void A_batch_image_error_says_which_image_and_why()
    {
        var problem = ScanExceptionHandler.Map(new ImageInBatchException(2, "field 'images', file 'x.png'",
            new ImageDecodeException(ImageDecodeError.UnsupportedFormat, "The data is not a PNG, JPEG, BMP, WebP or GIF image.")));
        Assert.Equal(2, problem.Extensions["index"]);
        Assert.Equal("field 'images', file 'x.png'", problem.Extensions["part"]);
        Assert.Equal("unsupportedFormat", problem.Extensions["reason"]);
    }

    [Fact]
    public void An_unexpected_exception_is_a_generic_500_that_carries_none_of_its_text()
    {
        var problem = ScanExceptionHandler.Map(new InvalidOperationException("session failed at /opt/models/stage3.onnx"));
        Assert.Equal(500, problem.Status);
        Assert.DoesNotContain("stage3", problem.Detail);
        Assert.DoesNotContain("InvalidOperation", problem.Title);
    }
}
