namespace Warren.Deploy.Tests;

/// <summary>A Go application built in a container whose only module source is a Warren on the host: the go command
/// in the build's RUN steps downloads through Warren, builds and runs the program.</summary>
[Collection(PodmanCollection.Name)]
public sealed class GoAppImageTests(DeployFixture fixture)
{
    private const string Marker = "GO-APP-OK warren health";

    private const string MainGo = """
        package main

        import (
        	"fmt"

        	"github.com/BurntSushi/toml"
        	"github.com/gorilla/mux"
        )

        func main() {
        	var v struct{ Name string }
        	if _, err := toml.Decode(`Name = "warren"`, &v); err != nil {
        		panic(err)
        	}
        	r := mux.NewRouter()
        	r.Path("/healthz").Name("health")
        	fmt.Println("GO-APP-OK", v.Name, r.Get("health").GetName())
        }

        """;

    [Fact]
    public async Task Go_mod_download_goes_through_warren_on_the_host()
    {
        ManifestEntry[] modules = [Manifest.Get("github.com/BurntSushi/toml", "v1.2.0"), Manifest.Get("github.com/gorilla/mux", "v1.8.0")];
        var goRoot = Path.GetDirectoryName(Path.GetDirectoryName(TestPaths.RequireGo()))!;
        var image = Podman.NewImageName("goapp");
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);

        var store = TestPaths.NewTempDir("deploy-store");
        var port = Loopback.FreePort();
        await using var warren = BackgroundProcess.Start(fixture.WarrenExecutable,
            ["serve", "--upstream", upstream.Url, "--sumdb", "off", "--listen", $"127.0.0.1:{port}", "--root", store]);
        await warren.WaitForPortAsync(port, TimeSpan.FromSeconds(60));

        var app = TestPaths.NewTempDir("deploy-goapp");
        await File.WriteAllTextAsync(Path.Combine(app, "go.mod"),
            "module example.com/deployapp\n\ngo 1.19\n\nrequire (\n" + string.Concat(modules.Select(m => $"\t{m.Path} {m.Version}\n")) + ")\n");
        await File.WriteAllTextAsync(Path.Combine(app, "go.sum"),
            string.Concat(modules.Select(m => $"{m.Path} {m.Version} {m.ZipHash}\n{m.Path} {m.Version}/go.mod {m.ModHash}\n")));
        await File.WriteAllTextAsync(Path.Combine(app, "main.go"), MainGo);
        await File.WriteAllTextAsync(Path.Combine(app, "Dockerfile"), $"""
            FROM {fixture.DebianImage}
            ENV PATH={goRoot}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                GOPROXY=http://127.0.0.1:{port} GOSUMDB=off GOFLAGS=-mod=mod CGO_ENABLED=0 \
                GOPATH=/tmp/gopath GOCACHE=/tmp/gocache
            WORKDIR /src
            COPY go.mod go.sum main.go ./
            RUN go mod download -x && go mod verify
            RUN go build -o /usr/local/bin/app .
            RUN /usr/local/bin/app

            """);

        try
        {
            // The toolchain is bound into the build, not copied: its root and what its symlinks point to (Debian's
            // /usr/lib/go-1.19/src is ../../share/go-1.19/src), each at its own path.
            var build = await Podman.BuildAsync([
                .. Podman.BuildArgs(Path.Combine(app, "Dockerfile"), image),
                .. ToolchainVolumes(goRoot).SelectMany(v => new[] { "--volume", $"{v}:{v}:ro" }),
                app,
            ]);
            Assert.True(build.ExitCode == 0 && (build.Stdout + build.Stderr).Contains(Marker, StringComparison.Ordinal),
                "the Go build through Warren failed: " + Podman.Tail(build) + "\nwarren:\n" + warren.Output);

            foreach (var m in modules)
            {
                var zip = $"{Manifest.Escape(m.Path)}/@v/{Manifest.Escape(m.Version)}.zip";
                Assert.True(File.Exists(Path.Combine(store, zip)), $"{m} is not in Warren's store: the go command did not fetch it through Warren");
                Assert.True(upstream.HitsFor("/" + zip) >= 1, $"Warren never fetched {zip} from its upstream");
                // go mod download -x logs each request; the go command writes the '!' of an escaped path as %21.
                var log = build.Stdout + build.Stderr;
                Assert.True(log.Contains($"# get http://127.0.0.1:{port}/{zip}", StringComparison.Ordinal)
                    || log.Contains($"# get http://127.0.0.1:{port}/{zip.Replace("!", "%21", StringComparison.Ordinal)}", StringComparison.Ordinal),
                    $"the go command's log shows no request for {zip} to Warren: {Podman.Tail(build)}");
            }
        }
        finally
        {
            await Podman.RemoveImagesAsync(image);
        }
    }

    /// <summary>The Go root and the directories its top-level symlinks lead to.</summary>
    private static IEnumerable<string> ToolchainVolumes(string goRoot)
    {
        var dirs = new SortedSet<string>(StringComparer.Ordinal) { goRoot };
        foreach (var entry in new DirectoryInfo(goRoot).EnumerateFileSystemInfos())
        {
            if (entry.LinkTarget is not null && entry.ResolveLinkTarget(returnFinalTarget: true) is { } target)
            {
                dirs.Add(Path.GetDirectoryName(target.FullName)!);
            }
        }

        return dirs;
    }
}
