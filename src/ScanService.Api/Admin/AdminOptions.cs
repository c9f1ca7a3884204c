namespace ScanService.Api.Admin;

/// <summary>Configuration section "Admin". Admin routes do not exist unless enabled, and then need the key.</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";
    public const string KeyHeader = "X-Admin-Key";

    public bool Enabled { get; set; }

    /// <summary>Sent by callers in the X-Admin-Key header; required (16 characters or more) when enabled.</summary>
    public string? Key { get; set; }
}
