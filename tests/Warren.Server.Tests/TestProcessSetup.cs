using System.Runtime.CompilerServices;

namespace Warren.Server.Tests;

internal static class TestProcessSetup
{
    /// <summary>Many in-process servers, go and git children and parallel test classes share one thread pool here;
    /// start it wide so that a burst of blocking waits in fixtures cannot starve the servers' accept loops.</summary>
#pragma warning disable CA2255 // A test assembly is the program here.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void WidenThreadPool() => ThreadPool.SetMinThreads(Math.Max(64, Environment.ProcessorCount * 16), 64);
}
