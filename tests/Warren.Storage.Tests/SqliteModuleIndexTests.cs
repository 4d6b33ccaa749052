using Warren.Storage.Sqlite;
using Warren.Testing;

namespace Warren.Storage.Tests;

/// <summary>The index contract on the SQLite provider: a fresh database file per index; a shared handle is a second
/// <see cref="SqliteModuleIndex"/> on the same file, as a second process would open it.</summary>
public sealed class SqliteModuleIndexTests : ModuleIndexContract, IDisposable
{
    private readonly List<SqliteModuleIndex> _opened = [];

    protected override Task<IModuleIndex> CreateIndexAsync(IModuleIndex? shareWith = null)
    {
        var path = shareWith is null
            ? Path.Combine(TestPaths.NewTempDir("sqlite-index"), "index.db")
            : ((SqliteModuleIndex)shareWith).Location;
        var index = new SqliteModuleIndex(new SqliteIndexOptions { Path = path });
        _opened.Add(index);
        return Task.FromResult<IModuleIndex>(index);
    }

    public void Dispose()
    {
        foreach (var index in _opened)
        {
            index.Dispose();
        }
    }
}
