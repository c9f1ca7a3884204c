using ScanService.Core.Preprocessing;
using ScanService.Datasets;

namespace ScanService.Training.Data;

/// <summary>
/// Users' own data: <c>root/&lt;class name&gt;/*.png|jpg|jpeg|bmp|webp|gif</c>. Classes are the sub-folders in
/// ordinal order of their names; images are decoded with the service's own <see cref="ImageDecoder"/>, so
/// training sees exactly the pixels the service will produce from the same files.
/// </summary>
public static class ImageFolder
{
    public static readonly IReadOnlySet<string> Extensions =
        new HashSet<string>([".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif"], StringComparer.OrdinalIgnoreCase);

    /// <summary>Loads a training folder and a separate test folder; the test folder's classes must be among the training ones.</summary>
    public static TrainTestSets Load(string trainRoot, string testRoot, DecodeTarget target, ImageDecoder? decoder = null)
    {
        var train = Load(trainRoot, target, classNames: null, decoder);
        return new TrainTestSets(train, Load(testRoot, target, train.ClassNames, decoder));
    }

    /// <summary>Loads one folder of class sub-folders.</summary>
    /// <param name="classNames">
    /// The label of each class name, for a test folder that must label like its training folder (it may lack
    /// some classes, not add any). Null to take the sub-folders found, which then must each hold an image.
    /// </param>
    public static ImageDataset Load(string root, DecodeTarget target, IReadOnlyList<string>? classNames = null, ImageDecoder? decoder = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        decoder ??= new ImageDecoder();
        if (!Directory.Exists(root))
        {
            throw new DatasetException(root, "folder not found.");
        }

        var classFolders = Directory.GetDirectories(root)
            .Where(d => !Path.GetFileName(d).StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .ToArray();
        if (classFolders.Length == 0)
        {
            throw new DatasetException(root, "has no class folders; expected root/<class name>/<images>.");
        }

        var names = classNames ?? [.. classFolders.Select(Path.GetFileName).Select(n => n!)];
        var files = new List<(string Path, int Label)>();
        foreach (var folder in classFolders)
        {
            string name = Path.GetFileName(folder);
            int label = IndexOf(names, name);
            if (label < 0)
            {
                throw new DatasetException(folder, $"class '{name}' is not one of the training classes ({string.Join(", ", names)}).");
            }
            var images = Directory.GetFiles(folder)
                .Where(f => Extensions.Contains(Path.GetExtension(f)) && !Path.GetFileName(f).StartsWith('.'))
                .Order(StringComparer.Ordinal)
                .ToArray();
            if (images.Length == 0 && classNames is null)
            {
                throw new DatasetException(folder, $"has no images ({string.Join(", ", Extensions.Order(StringComparer.Ordinal))}); a class needs examples to be learned.");
            }
            files.AddRange(images.Select(f => (f, label)));
        }

        return Decode(files, target, names, decoder);
    }

    private static ImageDataset Decode(List<(string Path, int Label)> files, DecodeTarget target, IReadOnlyList<string> names, ImageDecoder decoder)
    {
        int sampleSize = target.PixelsPerSample;
        var pixels = new byte[(long)files.Count * sampleSize];
        var labels = new int[files.Count];
        var failures = new DatasetException?[files.Count];

        // Each image writes only its own slot, so decoding in parallel gives the same bytes as in order.
        Parallel.For(0, files.Count, (i, loop) =>
        {
            var (path, label) = files[i];
            try
            {
                decoder.Decode(File.ReadAllBytes(path), target, pixels.AsSpan(i * sampleSize, sampleSize));
                labels[i] = label;
            }
            catch (ImageDecodeException e)
            {
                failures[i] = new DatasetException(path, $"cannot be decoded: {e.Message}", e);
                loop.Break();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failures[i] = new DatasetException(path, $"cannot be read: {e.Message}", e);
                loop.Break();
            }
        });

        // Break lets every earlier image finish, so the first failure in file order is the one reported.
        var first = Array.Find(failures, f => f is not null);
        if (first is not null) throw first;
        return new ImageDataset(pixels, labels, target.Channels, target.Height, target.Width, names);
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal)) return i;
        }
        return -1;
    }
}
