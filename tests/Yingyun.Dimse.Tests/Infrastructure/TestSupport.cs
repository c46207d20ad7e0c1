using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Yingyun.Dimse.Tests.Infrastructure;

/// <summary>A temporary directory removed at the end of the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "yingyun-dimse-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>pydicom's test corpus as Debian packages it (python3-pydicom), located by asking Debian's own Python
/// where pydicom lives (a python3 earlier on PATH may not see the Debian package); PYDICOM_TEST_FILES overrides it.</summary>
internal static class Corpus
{
    private static readonly Lazy<string> FolderLazy = new(Locate);

    public static string Folder => FolderLazy.Value;

    private static string Locate()
    {
        if (Environment.GetEnvironmentVariable("PYDICOM_TEST_FILES") is { Length: > 0 } overridden) return overridden;
        var info = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-I", "-c", "import os, pydicom; print(os.path.join(os.path.dirname(pydicom.__file__), 'data', 'test_files'))" })
            info.ArgumentList.Add(a);
        using var python = Process.Start(info) ?? throw new InvalidOperationException("could not start /usr/bin/python3");
        string folder = python.StandardOutput.ReadToEnd().Trim();
        string error = python.StandardError.ReadToEnd();
        python.WaitForExit();
        if (python.ExitCode != 0 || !Directory.Exists(folder))
            throw new InvalidOperationException($"pydicom's test files not found (apt-get install -y python3-pydicom): {error}");
        return folder;
    }

    public static string File(string name)
    {
        var path = Path.Combine(Folder, name);
        System.IO.File.Exists(path).Should().BeTrue($"the pydicom test corpus (Debian package python3-pydicom) must provide {name}");
        return path;
    }

    /// <summary>The data set bytes of a Part 10 file: everything after its File Meta Information.</summary>
    public static byte[] DataSetBytes(string path)
    {
        var bytes = System.IO.File.ReadAllBytes(path);
        var header = Part10Header.Parse(bytes, path);
        return bytes[(int)header.DataSetOffset..];
    }
}

/// <summary>A running server on 127.0.0.1 with a free port, storing into a temporary folder.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    public TestServer(Action<DicomServerOptions>? configure = null)
    {
        Options = new DicomServerOptions { Address = IPAddress.Loopback, Port = 0, AeTitle = "YINGYUN" };
        Store = new FolderStoreHandler(Folder.Path);
        Options.Services.StoreHandler = Store;
        configure?.Invoke(Options);
        Server = new DicomServer(Options);
        Server.Start();
    }

    public TempFolder Folder { get; } = new();
    public FolderStoreHandler Store { get; }
    public DicomServerOptions Options { get; }
    public DicomServer Server { get; }
    public int Port => Server.LocalEndPoint.Port;

    public DicomClientOptions Client(string callingAe = "TESTSCU", string? calledAe = null) =>
        new() { Host = "127.0.0.1", Port = Port, CallingAeTitle = callingAe, CalledAeTitle = calledAe ?? Options.AeTitle };

    /// <summary>Associates, echoes and releases: proof that the server still serves.</summary>
    public async Task<DimseStatus> EchoAsync(string callingAe = "TESTSCU")
    {
        await using var association = await DicomClient.ConnectAsync(Client(callingAe), [Dicom.DicomUids.Verification]);
        var status = await association.EchoAsync();
        await association.ReleaseAsync();
        return status;
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Folder.Dispose();
    }
}

internal sealed record ProcessResult(int ExitCode, string Output)
{
    public override string ToString() => $"exit {ExitCode}\n{Output}";
}

/// <summary>Runs the dcmtk command line tools (Debian package dcmtk). Every tool gets TCP_NODELAY=1, without which dcmtk
/// waits on delayed ACKs.</summary>
internal static class Dcmtk
{
    public static string Require(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate)) return candidate;
        }
        throw new Xunit.Sdk.XunitException($"{tool} not found on PATH: install the Debian package dcmtk (apt-get install -y dcmtk)");
    }

    public static async Task<ProcessResult> RunAsync(string tool, params string[] arguments)
    {
        using var process = Start(tool, arguments);
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // A safety net against a hung tool, not a timing assertion.
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        output.Append(await stdout).Append(await stderr);
        return new ProcessResult(process.ExitCode, output.ToString());
    }

    public static Process Start(string tool, params string[] arguments)
    {
        var info = new ProcessStartInfo(Require(tool))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        info.Environment["TCP_NODELAY"] = "1";
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {tool}");
    }

    /// <summary>A port no one listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until something listens on 127.0.0.1:<paramref name="port"/>, by watching the kernel's socket
    /// table (no probe connection that the tool would log as a failed association).</summary>
    public static async Task WaitUntilListeningAsync(int port, Process process)
    {
        string hexPort = port.ToString("X4", CultureInfo.InvariantCulture);
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
            {
                if (!File.Exists(table)) continue;
                foreach (var line in await File.ReadAllLinesAsync(table, guard.Token))
                {
                    var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    // local_address is "ADDR:PORT"; state 0A is LISTEN.
                    if (fields.Length > 3 && fields[1].EndsWith(":" + hexPort, StringComparison.Ordinal) && fields[3] == "0A") return;
                }
            }
            if (process.HasExited) throw new InvalidOperationException($"the tool exited with {process.ExitCode} before listening");
            await Task.Delay(20, guard.Token);
        }
    }
}

/// <summary>Compares two data sets element by element: tags, value bytes (little endian, as the reader keeps
/// them), nested items and encapsulated fragments; VRs are not compared, since implicit VR files take them from the
/// dictionary.</summary>
internal static class DataSetComparer
{
    /// <summary>Parses two Part 10 files and compares their data sets (not their File Meta Information).</summary>
    public static async Task AssertSameDataSetAsync(string expectedPath, string actualPath)
    {
        var expected = await Dicom.DicomReader.OpenAsync(expectedPath);
        var actual = await Dicom.DicomReader.OpenAsync(actualPath);
        await AssertEquivalentAsync(expected.Dataset, actual.Dataset, $"{Path.GetFileName(expectedPath)}: ");
    }

    public static async Task AssertEquivalentAsync(Dicom.DicomDataset expected, Dicom.DicomDataset actual, string where = "")
    {
        var e = expected.Where(i => i.Tag.Group != 0x0002 && !i.Tag.IsGroupLength && i.Tag != new Dicom.DicomTag(0xFFFC, 0xFFFC)).ToList();
        var a = actual.Where(i => i.Tag.Group != 0x0002 && !i.Tag.IsGroupLength && i.Tag != new Dicom.DicomTag(0xFFFC, 0xFFFC)).ToList();
        a.Select(i => i.Tag).Should().Equal(e.Select(i => i.Tag), where);
        for (int n = 0; n < e.Count; n++)
        {
            string at = $"{where}{e[n].Tag}";
            switch (e[n])
            {
                case Dicom.DicomElement ee:
                    var ae = a[n].Should().BeOfType<Dicom.DicomElement>(at).Subject;
                    (await ae.Value.GetBytesAsync()).ToArray().Should().Equal((await ee.Value.GetBytesAsync()).ToArray(), at);
                    break;
                case Dicom.DicomSequence es:
                    var sq = a[n].Should().BeOfType<Dicom.DicomSequence>(at).Subject;
                    sq.Items.Should().HaveCount(es.Items.Count, at);
                    for (int k = 0; k < es.Items.Count; k++) await AssertEquivalentAsync(es.Items[k], sq.Items[k], $"{at}[{k}]");
                    break;
                case Dicom.DicomFragmentSequence ef:
                    var af = a[n].Should().BeOfType<Dicom.DicomFragmentSequence>(at).Subject;
                    af.Fragments.Should().HaveCount(ef.Fragments.Count, at);
                    for (int k = 0; k < ef.Fragments.Count; k++)
                        (await af.Fragments[k].GetBytesAsync()).ToArray().Should().Equal((await ef.Fragments[k].GetBytesAsync()).ToArray(), $"{at} fragment {k + 1}");
                    break;
            }
        }
    }
}
