using Google.Protobuf;
using Onnx;
using ScanService.Core.Bundle;

namespace ScanService.Training.Export;

/// <summary>
/// Writes one ONNX inference graph node by node, tracking each tensor's shape (without the dynamic batch
/// dimension) so that it can count multiply-adds and parameters and state the output shape.
/// </summary>
public sealed class OnnxGraphBuilder
{
    public const int Opset = 17;
    private const long IrVersion = 8;
    private const string BatchDimension = "batch";

    private readonly GraphProto _graph;
    private readonly Dictionary<string, long[]> _shapes = new();
    private readonly TensorSpec _input;
    private int _counter;

    /// <summary>Multiply-adds per sample of convolutions, transposed convolutions and fully connected layers.</summary>
    public long MultiplyAdds { get; private set; }
    /// <summary>Weights and biases stored in the graph (after BatchNorm folding).</summary>
    public long Parameters { get; private set; }

    public OnnxGraphBuilder(string graphName, string inputName, params long[] inputShape)
    {
        _graph = new GraphProto { Name = graphName };
        _graph.Input.Add(ValueInfo(inputName, inputShape));
        _shapes[inputName] = inputShape;
        _input = new TensorSpec(inputName, [-1, .. inputShape]);
    }

    public string Input => _input.Name;
    public long[] ShapeOf(string tensor) => _shapes[tensor];

    /// <summary>
    /// A 2-D convolution with bias. <paramref name="pads"/> is top, left, bottom, right. <paramref name="countedMultiplyAdds"/>
    /// replaces the convolution's own count when its kernel holds structural zeros (a rewritten layer is counted as the
    /// model's arithmetic, not the padding of its new form).
    /// </summary>
    public string Conv(string x, float[] weight, long[] weightShape, float[] bias, int stride, int[] pads, long? countedMultiplyAdds = null)
    {
        var (c, h, w) = Chw(x);
        long outC = weightShape[0], kh = weightShape[2], kw = weightShape[3];
        if (weightShape[1] != c) throw new InvalidOperationException($"convolution expects {weightShape[1]} channels, tensor '{x}' has {c}");
        var oh = (h + pads[0] + pads[2] - kh) / stride + 1;
        var ow = (w + pads[1] + pads[3] - kw) / stride + 1;
        var node = Node("Conv", [x, Initializer("W", weight, weightShape), Initializer("B", bias, [outC])], [outC, oh, ow]);
        node.Attribute.Add(Ints("kernel_shape", kh, kw));
        node.Attribute.Add(Ints("strides", stride, stride));
        node.Attribute.Add(Ints("pads", pads[0], pads[1], pads[2], pads[3]));
        MultiplyAdds += countedMultiplyAdds ?? outC * oh * ow * c * kh * kw;
        return node.Output[0];
    }

    /// <summary>
    /// DepthToSpace in CRD order: channel c·b² + i·b + j of the input goes to channel c, pixel (b·y + i, b·x + j).
    /// </summary>
    public string DepthToSpace(string x, int blocksize)
    {
        var (c, h, w) = Chw(x);
        var b2 = (long)blocksize * blocksize;
        if (c % b2 != 0) throw new InvalidOperationException($"DepthToSpace with block {blocksize} needs channels divisible by {b2}; tensor '{x}' has {c}");
        var node = Node("DepthToSpace", [x], [c / b2, h * blocksize, w * blocksize]);
        node.Attribute.Add(new AttributeProto { Name = "blocksize", Type = AttributeProto.Types.AttributeType.Int, I = blocksize });
        node.Attribute.Add(new AttributeProto { Name = "mode", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("CRD") });
        return node.Output[0];
    }

    /// <summary>Nearest-neighbour upsampling by an integer <paramref name="factor"/> (Resize): output pixel (y, x) is input pixel (⌊y/f⌋, ⌊x/f⌋).</summary>
    public string UpsampleNearest(string x, int factor)
    {
        var (c, h, w) = Chw(x);
        var node = Node("Resize", [x, "", FloatInitializer("scales", [1, 1, factor, factor])], [c, h * factor, w * factor]);
        node.Attribute.Add(new AttributeProto { Name = "mode", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("nearest") });
        node.Attribute.Add(new AttributeProto { Name = "coordinate_transformation_mode", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("asymmetric") });
        node.Attribute.Add(new AttributeProto { Name = "nearest_mode", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("floor") });
        return node.Output[0];
    }

    /// <summary>The top-left <paramref name="height"/> x <paramref name="width"/> of a feature map (a Slice); the map itself when it is that size.</summary>
    public string CropTopLeft(string x, long height, long width)
    {
        var (c, h, w) = Chw(x);
        if (height > h || width > w) throw new InvalidOperationException($"cannot crop {h}x{w} to {height}x{width}");
        if (height == h && width == w) return x;
        var node = Node("Slice", [x, Int64Initializer("starts", [0, 0]), Int64Initializer("ends", [height, width]), Int64Initializer("axes", [2, 3])], [c, height, width]);
        return node.Output[0];
    }

    /// <summary>A transposed convolution whose asymmetric pads crop the output to <paramref name="outHeight"/> x <paramref name="outWidth"/>.</summary>
    public string ConvTranspose(string x, float[] weight, long[] weightShape, float[] bias, int stride, int padBegin, long outHeight, long outWidth)
    {
        var (c, h, w) = Chw(x);
        long outC = weightShape[1], kh = weightShape[2], kw = weightShape[3];
        var padBottom = (h - 1) * stride + kh - padBegin - outHeight;
        var padRight = (w - 1) * stride + kw - padBegin - outWidth;
        if (padBottom < 0 || padRight < 0) throw new InvalidOperationException($"transposed convolution cannot reach {outHeight}x{outWidth} from {h}x{w}");
        var node = Node("ConvTranspose", [x, Initializer("W", weight, weightShape), Initializer("B", bias, [outC])], [outC, outHeight, outWidth]);
        node.Attribute.Add(Ints("kernel_shape", kh, kw));
        node.Attribute.Add(Ints("strides", stride, stride));
        node.Attribute.Add(Ints("pads", padBegin, padBegin, padBottom, padRight));
        MultiplyAdds += c * h * w * outC * kh * kw;
        return node.Output[0];
    }

    public string Relu(string x) => Node("Relu", [x], _shapes[x]).Output[0];
    public string Sigmoid(string x) => Node("Sigmoid", [x], _shapes[x]).Output[0];
    public string Mul(string a, string b) => Node("Mul", [a, b], _shapes[a]).Output[0];
    public string Add(string a, string b) => Node("Add", [a, b], _shapes[a]).Output[0];

    public string MaxPool(string x, int kernel, int stride, int padding)
    {
        var (c, h, w) = Chw(x);
        var oh = (h + 2 * padding - kernel) / stride + 1;
        var ow = (w + 2 * padding - kernel) / stride + 1;
        var node = Node("MaxPool", [x], [c, oh, ow]);
        node.Attribute.Add(Ints("kernel_shape", kernel, kernel));
        node.Attribute.Add(Ints("strides", stride, stride));
        node.Attribute.Add(Ints("pads", padding, padding, padding, padding));
        return node.Output[0];
    }

    /// <summary>Global average pooling and flattening to [batch, channels].</summary>
    public string GlobalAveragePoolFlat(string x)
    {
        var (c, _, _) = Chw(x);
        var pooled = Node("GlobalAveragePool", [x], [c, 1, 1]).Output[0];
        var flat = Node("Flatten", [pooled], [c]);
        flat.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        return flat.Output[0];
    }

    /// <summary>A fully connected layer: y = x·Wᵀ + b with W as [out, in], like torch's Linear.</summary>
    public string Gemm(string x, float[] weight, long outFeatures, float[] bias)
    {
        var inFeatures = _shapes[x][0];
        var node = Node("Gemm", [x, Initializer("W", weight, [outFeatures, inFeatures]), Initializer("B", bias, [outFeatures])], [outFeatures]);
        node.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        MultiplyAdds += inFeatures * outFeatures;
        return node.Output[0];
    }

    /// <summary>Names the graph's output and returns the model with its boundary tensors.</summary>
    public (ModelProto Model, TensorSpec Input, TensorSpec Output) Build(string last, string outputName)
    {
        var renamed = Node("Identity", [last], _shapes[last]);
        renamed.Output[0] = outputName;
        _shapes[outputName] = _shapes[last];
        _graph.Output.Add(ValueInfo(outputName, _shapes[outputName]));
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "ScanService.Training",
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "1",
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return (model, _input, new TensorSpec(outputName, [-1, .. _shapes[outputName]]));
    }

    private (long C, long H, long W) Chw(string x)
    {
        var s = _shapes[x];
        if (s.Length != 3) throw new InvalidOperationException($"tensor '{x}' is not a feature map (shape {string.Join('x', s)})");
        return (s[0], s[1], s[2]);
    }

    private NodeProto Node(string op, string[] inputs, long[] outputShape)
    {
        var name = $"{op.ToLowerInvariant()}_{_counter++}";
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(name);
        _shapes[name] = outputShape;
        _graph.Node.Add(node);
        return node;
    }

    private string Initializer(string kind, float[] values, long[] shape)
    {
        var name = $"{kind}_{_counter++}";
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        tensor.Dims.AddRange(shape);
        _graph.Initializer.Add(tensor);
        Parameters += values.Length;
        return name;
    }

    /// <summary>A constant that is not a weight (not counted in <see cref="Parameters"/>).</summary>
    private string FloatInitializer(string kind, float[] values)
    {
        var tensor = new TensorProto { DataType = (int)TensorProto.Types.DataType.Float };
        tensor.FloatData.AddRange(values);
        return Constant(kind, tensor, values.Length);
    }

    private string Int64Initializer(string kind, long[] values)
    {
        var tensor = new TensorProto { DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Int64Data.AddRange(values);
        return Constant(kind, tensor, values.Length);
    }

    /// <summary>Names a 1-D constant of <paramref name="length"/> values and adds it to the graph's initialisers.</summary>
    private string Constant(string kind, TensorProto tensor, long length)
    {
        tensor.Name = $"{kind}_{_counter++}";
        tensor.Dims.Add(length);
        _graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private static ValueInfoProto ValueInfo(string name, long[] shape)
    {
        var tensorShape = new TensorShapeProto();
        tensorShape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchDimension });
        foreach (var d in shape) tensorShape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = tensorShape } },
        };
    }
}
