namespace Warren.Tools.Tests.Doctor;

/// <summary>The corpus served as a GOPROXY on 127.0.0.1 and a copy of the corpus program validate/closed completed by
/// the real go client through it (go.mod requirements and a complete go.sum).</summary>
public sealed class DoctorCorpusFixture : IAsyncLifetime
{
    public FakeUpstream Proxy { get; private set; } = null!;

    /// <summary>The tidy module; tests copy it before changing anything.</summary>
    public string Module { get; } = TestPaths.NewTempDir("doctor-closed");

    /// <summary>The module cache the go client filled while completing the module.</summary>
    public string ModCache { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Proxy = await FakeUpstream.StartAsync(TestPaths.Corpus);
        foreach (var file in Directory.GetFiles(TestPaths.ValidateClosed))
        {
            var target = Path.Combine(Module, Path.GetFileName(file));
            File.Copy(file, target);
            File.SetAttributes(target, FileAttributes.Normal);
        }

        // Loading the packages (-mod=mod) adds the requirements and their go.sum lines without compiling anything.
        var go = new GoRunner(Proxy.Url);
        ModCache = go.ModCache;
        var list = await go.RunAsync(Module, "list", "-deps", "./...");
        Assert.True(list.ExitCode == 0, list.ToString());
    }

    /// <summary>A fresh copy of the tidy module.</summary>
    public string CopyModule()
    {
        var dir = TestPaths.NewTempDir("doctor-module");
        foreach (var file in Directory.GetFiles(Module))
        {
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        }

        return dir;
    }

    public async Task DisposeAsync() => await Proxy.DisposeAsync();
}
