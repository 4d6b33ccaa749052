namespace Warren.WebConsole.Components.Layout;

/// <summary>One entry of the console's navigation.</summary>
/// <param name="Href">Absolute path under /ui.</param>
/// <param name="Label">What the link says.</param>
/// <param name="AdminOnly">Shown only to admins.</param>
public sealed record NavEntry(string Href, string Label, bool AdminOnly = false);

/// <summary>The console's navigation, in order. A new page adds its entry here.</summary>
public static class ConsoleNav
{
    public static readonly IReadOnlyList<NavEntry> Entries =
    [
        new("/ui", "Overview"),
        new("/ui/modules", "Modules"),
        new("/ui/advisories", "Advisories"),
        new("/ui/policy", "Policy"),
        new("/ui/sync", "Sync"),
        new("/ui/admin", "Admin", AdminOnly: true),
    ];

    /// <summary>Whether an entry is the current page (or a page under it).</summary>
    public static bool IsCurrent(NavEntry entry, string path) =>
        entry.Href == "/ui"
            ? path is "/ui" or "/ui/"
            : path == entry.Href || path.StartsWith(entry.Href + "/", StringComparison.Ordinal);
}
