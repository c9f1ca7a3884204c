namespace ScanService.Datasets;

/// <summary>A dataset file or folder that cannot be read as what it claims to be. The message names the file and the problem.</summary>
public sealed class DatasetException : Exception
{
    public DatasetException(string file, string problem, Exception? innerException = null)
        : base($"{file}: {problem}", innerException)
    {
        File = file;
        Problem = problem;
    }

    /// <summary>The file or folder at fault.</summary>
    public string File { get; }

    public string Problem { get; }
}
