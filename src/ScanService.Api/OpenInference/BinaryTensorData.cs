using System.Buffers.Binary;

namespace ScanService.Api.OpenInference;

/// <summary>
/// Tensors as raw bytes, as the protocol lays them out for gRPC's raw contents and REST's binary data extension:
/// little-endian numbers in row-major order; BYTES elements each as a 4-byte little-endian length and that many bytes.
/// </summary>
public static class BinaryTensorData
{
    /// <summary>The REST header that says how many bytes of the body are the JSON part; the binary tensors follow it.</summary>
    public const string HeaderLengthHeader = "Inference-Header-Content-Length";
    /// <summary>The extension's name in the server metadata.</summary>
    public const string Extension = "binary_tensor_data";
    /// <summary>Input and output parameter: how many bytes of the binary part a tensor takes.</summary>
    public const string SizeParameter = "binary_data_size";
    /// <summary>Output parameter: answer this output in binary.</summary>
    public const string OutputParameter = "binary_data";
    /// <summary>Request parameter: answer every output in binary.</summary>
    public const string AllOutputsParameter = "binary_data_output";

    /// <summary>FP32 values from little-endian bytes; <paramref name="fail"/> words the refusal when the length is wrong.</summary>
    public static float[] Floats(ReadOnlySpan<byte> bytes, int count, Func<string, Exception> fail)
    {
        if (bytes.Length != count * sizeof(float))
            throw fail($"needs {count * sizeof(float)} bytes for {count} FP32 values; got {bytes.Length}");
        var values = new float[count];
        for (var i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * sizeof(float), sizeof(float)));
        return values;
    }

    /// <summary>The elements of a BYTES tensor: each a 4-byte little-endian length and that many bytes.</summary>
    public static List<ReadOnlyMemory<byte>> Elements(ReadOnlyMemory<byte> raw, int count, Func<string, Exception> fail)
    {
        var elements = new List<ReadOnlyMemory<byte>>(count);
        var offset = 0;
        while (offset < raw.Length)
        {
            if (raw.Length - offset < sizeof(uint)) throw fail("ends inside an element's length prefix");
            var length = BinaryPrimitives.ReadUInt32LittleEndian(raw.Span.Slice(offset, sizeof(uint)));
            offset += sizeof(uint);
            if (length > (uint)(raw.Length - offset)) throw fail($"declares an element of {length} bytes with {raw.Length - offset} left");
            elements.Add(raw.Slice(offset, (int)length));
            offset += (int)length;
        }
        if (elements.Count != count) throw fail($"of {count} elements holds {elements.Count}");
        return elements;
    }

    public static byte[] LittleEndian(float[] values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        return bytes;
    }

    public static byte[] LittleEndian(long[] values)
    {
        var bytes = new byte[values.Length * sizeof(long)];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * sizeof(long)), values[i]);
        return bytes;
    }
}
