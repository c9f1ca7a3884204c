using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace ScanService.Api.Tests.Metrics;

/// <summary>YAML files as plain trees (mappings, lists, strings), one per document, to look into by path.</summary>
internal static class YamlDocuments
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder().Build();

    public static IReadOnlyList<object?> Load(string path)
    {
        using var reader = new StreamReader(path);
        return Read(reader);
    }

    /// <summary>YAML text (a tool's output), one tree per document.</summary>
    public static IReadOnlyList<object?> Parse(string text)
    {
        using var reader = new StringReader(text);
        return Read(reader);
    }

    private static List<object?> Read(TextReader reader)
    {
        var parser = new Parser(reader);
        parser.Consume<StreamStart>();
        var documents = new List<object?>();
        while (parser.Accept<DocumentStart>(out _)) documents.Add(Deserializer.Deserialize<object?>(parser));
        return documents;
    }

    public static object? At(this object? node, params object[] path)
    {
        foreach (var step in path)
        {
            node = (step, node) switch
            {
                (string key, Dictionary<object, object?> map) => map.GetValueOrDefault(key),
                (int index, List<object?> list) => index < list.Count ? list[index] : null,
                _ => null,
            };
        }
        return node;
    }

    public static string? Text(this object? node, params object[] path) => node.At(path) as string;

    public static IReadOnlyList<object?> Items(this object? node, params object[] path) => node.At(path) as List<object?> ?? [];

    /// <summary>The first item of a list whose <paramref name="key"/> is <paramref name="value"/> (a container, a port).</summary>
    public static object? Named(this object? list, string value, string key = "name") =>
        list is List<object?> items ? items.FirstOrDefault(i => i.Text(key) == value) : null;
}
