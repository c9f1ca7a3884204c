using Google.Protobuf;
using Onnx;

namespace ScanService.Core.Inference.Features;

/// <summary>
/// The ONNX graph the device store compacts rows with: <c>Gather(data, indices, axis 0)</c>, run on the same
/// provider as the model so that surviving rows never leave the device.
/// </summary>
internal static class RowGatherGraph
{
    public const string Data = "data";
    public const string Indices = "indices";
    public const string Output = "rows";

    /// <summary>The ONNX model of one Gather along the batch axis, for float tensors of any rank.</summary>
    public static byte[] Build()
    {
        static ValueInfoProto Tensor(string name, TensorProto.Types.DataType type) =>
            new() { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type } } };
        var graph = new GraphProto { Name = "gather_rows" };
        graph.Input.Add(Tensor(Data, TensorProto.Types.DataType.Float));
        graph.Input.Add(Tensor(Indices, TensorProto.Types.DataType.Int64));
        graph.Output.Add(Tensor(Output, TensorProto.Types.DataType.Float));
        var node = new NodeProto { OpType = "Gather", Name = "gather" };
        node.Input.Add(Data);
        node.Input.Add(Indices);
        node.Output.Add(Output);
        node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
        graph.Node.Add(node);
        var model = new ModelProto { IrVersion = 8, ProducerName = "ScanService.Core", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model.ToByteArray();
    }
}
