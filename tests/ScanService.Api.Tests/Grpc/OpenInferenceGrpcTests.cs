using System.Buffers.Binary;
using Google.Protobuf;
using Grpc.Core;
using ScanService.Protocols.OpenInference;
using ScanService.Protocols.Scan.V1;
using static ScanService.Api.Tests.Grpc.GrpcTestServer;
using InputTensor = ScanService.Protocols.OpenInference.ModelInferRequest.Types.InferInputTensor;

namespace ScanService.Api.Tests.Grpc;

public sealed class OpenInferenceGrpcTests : IDisposable
{
    private const int Batch = 6;
    private readonly ScanApiFactory _factory = new();
    private readonly GRPCInferenceService.GRPCInferenceServiceClient _inference;
    private readonly ClassificationService.ClassificationServiceClient _scan;
    private readonly IReadOnlyList<byte[]> _images = FashionMnistImages.Take(Batch);

    public OpenInferenceGrpcTests()
    {
        var channel = _factory.InMemoryChannel();
        _inference = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        _scan = new ClassificationService.ClassificationServiceClient(channel);
    }

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task ModelInfer_on_an_FP32_tensor_agrees_with_Classify()
    {
        var response = await _inference.ModelInferAsync(Infer(Fp32Tensor(), "fp32-batch"));

        Assert.Equal("fp32-batch", response.Id);
        Assert.Equal(_factory.Model().Version, response.ModelVersion);
        AssertAgrees(await UnaryAsync(null), Outputs.Typed(response));
    }

    [Fact]
    public async Task ModelInfer_on_a_raw_FP32_tensor_answers_raw_and_agrees_with_Classify()
    {
        var tensor = Fp32Tensor();
        var raw = new byte[tensor.Contents.Fp32Contents.Count * sizeof(float)];
        for (var i = 0; i < tensor.Contents.Fp32Contents.Count; i++)
            BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * sizeof(float)), tensor.Contents.Fp32Contents[i]);
        tensor.Contents = null;
        var request = Infer(tensor);
        request.RawInputContents.Add(ByteString.CopyFrom(raw));

        var response = await _inference.ModelInferAsync(request);

        Assert.Equal(response.Outputs.Count, response.RawOutputContents.Count);
        AssertAgrees(await UnaryAsync(null), Outputs.Raw(response));
    }

    [Fact]
    public async Task ModelInfer_on_BYTES_agrees_with_Classify()
    {
        var response = await _inference.ModelInferAsync(Infer(BytesTensor()));

        AssertAgrees(await UnaryAsync(null), Outputs.Typed(response));
    }

    [Fact]
    public async Task ModelInfer_on_raw_BYTES_agrees_with_Classify()
    {
        var tensor = BytesTensor();
        tensor.Contents = null;
        using var raw = new MemoryStream();
        foreach (var png in _images)
        {
            var length = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)png.Length);
            raw.Write(length);
            raw.Write(png);
        }
        var request = Infer(tensor);
        request.RawInputContents.Add(ByteString.CopyFrom(raw.ToArray()));

        var response = await _inference.ModelInferAsync(request);

        AssertAgrees(await UnaryAsync(null), Outputs.Raw(response));
    }

    [Fact]
    public async Task Parameters_carry_the_early_exit_options()
    {
        var request = Infer(BytesTensor());
        request.Parameters["max_exit"] = new InferParameter { Int64Param = 1 };
        request.Parameters["operating_point"] = new InferParameter { StringParam = "fast" };

        var response = await _inference.ModelInferAsync(request);

        var outputs = Outputs.Typed(response);
        Assert.All(outputs.ExitIndex, e => Assert.Equal(1, e));
        AssertAgrees(await UnaryAsync(new ClassifyOptions { MaxExit = 1, OperatingPoint = "fast" }), outputs);
        Assert.Equal("fast", response.Parameters["operating_point"].StringParam);
    }

    [Fact]
    public async Task Only_the_requested_outputs_come_back()
    {
        var request = Infer(BytesTensor());
        request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "exit_index" });

        var response = await _inference.ModelInferAsync(request);

        var output = Assert.Single(response.Outputs);
        Assert.Equal("exit_index", output.Name);
        Assert.Equal("INT64", output.Datatype);
        Assert.Equal(new long[] { Batch }, output.Shape.ToArray());
    }

    [Theory]
    [InlineData("unknown model", StatusCode.NotFound)]
    [InlineData("unknown version", StatusCode.NotFound)]
    [InlineData("two inputs", StatusCode.InvalidArgument)]
    [InlineData("wrong shape", StatusCode.InvalidArgument)]
    [InlineData("too few values", StatusCode.InvalidArgument)]
    [InlineData("unsupported datatype", StatusCode.InvalidArgument)]
    [InlineData("undecodable element", StatusCode.InvalidArgument)]
    [InlineData("parameter of the wrong kind", StatusCode.InvalidArgument)]
    [InlineData("unknown operating point", StatusCode.InvalidArgument)]
    [InlineData("unknown output", StatusCode.InvalidArgument)]
    [InlineData("contents and raw contents", StatusCode.InvalidArgument)]
    public async Task A_bad_request_fails_with_a_status_that_says_why(string bad, StatusCode expected)
    {
        var request = Infer(BytesTensor());
        switch (bad)
        {
            case "unknown model": request.ModelName = "no-such-model"; break;
            case "unknown version": request.ModelVersion = "0.0.0-none"; break;
            case "two inputs": request.Inputs.Add(Fp32Tensor()); break;
            case "wrong shape": request.Inputs[0] = Fp32Tensor(); request.Inputs[0].Shape[2] = 32; break;
            case "too few values": request.Inputs[0] = Fp32Tensor(); request.Inputs[0].Contents.Fp32Contents.RemoveAt(0); break;
            case "unsupported datatype": request.Inputs[0].Datatype = "INT8"; break;
            case "undecodable element": request.Inputs[0].Contents.BytesContents[1] = ByteString.CopyFromUtf8("not an image"); break;
            case "parameter of the wrong kind": request.Parameters["max_exit"] = new InferParameter { StringParam = "1" }; break;
            case "unknown operating point": request.Parameters["operating_point"] = new InferParameter { StringParam = "no-such-point" }; break;
            case "unknown output": request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "logits" }); break;
            case "contents and raw contents": request.RawInputContents.Add(ByteString.CopyFrom(1, 2, 3)); break;
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => _inference.ModelInferAsync(request).ResponseAsync);

        Assert.Equal(expected, error.StatusCode);
        if (bad == "undecodable element") Assert.Contains("element 1", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metadata_describes_the_server_and_the_model()
    {
        var model = _factory.Model();

        var server = await _inference.ServerMetadataAsync(new ServerMetadataRequest());
        var metadata = await _inference.ModelMetadataAsync(new ModelMetadataRequest { Name = model.Name });
        var ready = await _inference.ModelReadyAsync(new ModelReadyRequest { Name = model.Name });
        var otherReady = await _inference.ModelReadyAsync(new ModelReadyRequest { Name = "no-such-model" });

        Assert.False(string.IsNullOrEmpty(server.Name));
        Assert.Equal(new[] { model.Version }, metadata.Versions.ToArray());
        Assert.Equal(new long[] { -1, 1, 28, 28 }, metadata.Inputs.Single(i => i.Datatype == "FP32").Shape.ToArray());
        Assert.Equal(new long[] { -1 }, metadata.Inputs.Single(i => i.Datatype == "BYTES").Shape.ToArray());
        Assert.Equal(new long[] { -1, model.Manifest.Labels.Count }, metadata.Outputs.Single(o => o.Name == "probabilities").Shape.ToArray());
        Assert.Contains(metadata.Outputs, o => o.Name == "class_index" && o.Datatype == "INT64");
        Assert.Contains(metadata.Outputs, o => o.Name == "exit_index" && o.Datatype == "INT64");
        Assert.True(ready.Ready);
        Assert.False(otherReady.Ready);
    }

    private ModelInferRequest Infer(InputTensor tensor, string id = "") =>
        new() { ModelName = _factory.Model().Name, Id = id, Inputs = { tensor } };

    private InputTensor Fp32Tensor()
    {
        var model = _factory.Model();
        var size = model.Engine.SampleSize;
        var pixels = new float[_images.Count * size];
        for (var i = 0; i < _images.Count; i++)
            model.Preprocessor.Preprocess(_images[i], pixels.AsSpan(i * size, size));
        var input = model.Manifest.Input;
        return new InputTensor
        {
            Name = model.Manifest.Stages[0].Graph.Input.Name,
            Datatype = "FP32",
            Shape = { _images.Count, input.Channels, input.Height, input.Width },
            Contents = new InferTensorContents { Fp32Contents = { pixels } },
        };
    }

    private InputTensor BytesTensor() => new()
    {
        Name = "image",
        Datatype = "BYTES",
        Shape = { _images.Count },
        Contents = new InferTensorContents { BytesContents = { _images.Select(ByteString.CopyFrom) } },
    };

    private Task<Classification[]> UnaryAsync(ClassifyOptions? options) => ClassifyStreamTests.UnaryAnswersAsync(_scan, _images, options);

    /// <summary>
    /// The batch and the unary calls run the same engine, but a batch of N and N batches of one may round the last
    /// bit differently, so probabilities are compared within a tolerance.
    /// </summary>
    private void AssertAgrees(Classification[] unary, Outputs outputs)
    {
        var classes = _factory.Model().Manifest.Labels.Count;
        Assert.Equal(unary.Length * classes, outputs.Probabilities.Length);
        for (var i = 0; i < unary.Length; i++)
        {
            Assert.Equal(unary[i].ClassIndex, outputs.ClassIndex[i]);
            Assert.Equal(unary[i].Exit, outputs.ExitIndex[i]);
            Assert.Equal(unary[i].Confidence, outputs.Confidence[i], 4);
            Assert.Equal(unary[i].Confidence, outputs.Probabilities[i * classes + unary[i].ClassIndex], 4);
        }
    }

    private sealed record Outputs(float[] Probabilities, long[] ClassIndex, long[] ExitIndex, float[] Confidence)
    {
        public static Outputs Typed(ModelInferResponse response)
        {
            ModelInferResponse.Types.InferOutputTensor Named(string name) => response.Outputs.Single(o => o.Name == name);
            return new Outputs(
                Named("probabilities").Contents.Fp32Contents.ToArray(),
                Named("class_index").Contents.Int64Contents.ToArray(),
                Named("exit_index").Contents.Int64Contents.ToArray(),
                Named("confidence").Contents.Fp32Contents.ToArray());
        }

        public static Outputs Raw(ModelInferResponse response)
        {
            ReadOnlySpan<byte> Named(string name) =>
                response.RawOutputContents[response.Outputs.Select(o => o.Name).ToList().IndexOf(name)].Span;
            static float[] Floats(ReadOnlySpan<byte> raw)
            {
                var values = new float[raw.Length / sizeof(float)];
                for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(i * sizeof(float))..]);
                return values;
            }
            static long[] Longs(ReadOnlySpan<byte> raw)
            {
                var values = new long[raw.Length / sizeof(long)];
                for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt64LittleEndian(raw[(i * sizeof(long))..]);
                return values;
            }
            return new Outputs(Floats(Named("probabilities")), Longs(Named("class_index")), Longs(Named("exit_index")), Floats(Named("confidence")));
        }
    }
}
