using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using SharpFuzz;
using Yingyun.Dicom;
using Yingyun.Dicom.Fuzz;

// Yingyun.Dicom.Fuzz: the SharpFuzz harness for the DICOM reader (see ReaderTarget for what is a crash).
//   (no arguments)                   AFL mode: run under afl-fuzz (tests/fuzz/run.sh sets it up); without
//                                    afl-fuzz, runs the target once over stdin
//   --replay PATH...                 run the target over files (directories: every file below, dot files and
//                                    README* skipped); exit 1 if any crashes
//   --smoke N [--seeds DIR]...       N random mutations of the built-in seeds and the files in DIR, in process,
//             [--seed S]             with a fixed random seed (default 1): for machines without AFL;
//             [--max-seconds T]      stops early after T seconds
//   --write-seeds DIR                write the built-in seeds (small files in every syntax the writer makes)
//   --dump FILE                      print what memory and stream mode read (dcmdump-like, with problems)
//   --save-crashes DIR               with --replay/--smoke: keep the smallest input of each distinct crash in
//                                    DIR, named by its SHA-256
// Exit codes: 0 no crash, 1 crashes, 2 usage.

if (args.Length == 0)
{
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        ReaderTarget.Run(ms.GetBuffer().AsMemory(0, (int)ms.Length));
    });
    return 0;
}

// Outside afl-fuzz, an instrumented Yingyun.Dicom.dll (.build/fuzz/app) still writes coverage: give it a
// scratch map (SharpFuzz does the same when Fuzzer.Run runs without afl-fuzz).
Coverage.EnableWithoutAfl();

if (args is ["--dump", var dumpFile])
{
    var bytes = File.ReadAllBytes(dumpFile);
    foreach (var (mode, read) in new (string, Func<DicomFile>)[]
    {
        ("memory mode", () => DicomReader.Read(bytes)),
        ("stream mode", () => DicomReader.ReadAsync(new NonSeekableStream(bytes, ReaderTarget.ChunkSize(bytes.Length))).GetAwaiter().GetResult()),
    })
    {
        Console.WriteLine($"==== {mode}");
        try { DicomDump.Write(Console.Out, read()); }
        catch (DicomReadException e) { Console.WriteLine($"DicomReadException: {e.Message}"); }
    }
    return 0;
}

if (args is ["--write-seeds", var seedOut])
{
    Directory.CreateDirectory(seedOut);
    foreach (var (name, bytes) in BuiltInSeeds.Create())
        File.WriteAllBytes(Path.Combine(seedOut, $"builtin-{name}.dcm"), bytes);
    return 0;
}

var replay = new List<string>();
var seedDirs = new List<string>();
int smoke = -1, seed = 1, maxSeconds = int.MaxValue;
string? saveDir = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--replay":
            while (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) replay.Add(args[++i]);
            if (replay.Count == 0) return Usage("--replay needs a file or directory");
            break;
        case "--smoke" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var n) && n >= 0:
            smoke = n; i++;
            break;
        case "--seeds" when i + 1 < args.Length:
            seedDirs.Add(args[++i]);
            break;
        case "--seed" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var s):
            seed = s; i++;
            break;
        case "--max-seconds" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var t) && t > 0:
            maxSeconds = t; i++;
            break;
        case "--save-crashes" when i + 1 < args.Length:
            saveDir = args[++i];
            break;
        default:
            return Usage($"unexpected argument '{args[i]}'");
    }
}
if ((replay.Count > 0) == (smoke >= 0)) return Usage("give either --replay or --smoke");

var crashes = new CrashLog(saveDir);
if (replay.Count > 0)
{
    var files = new List<string>();
    foreach (var p in replay)
    {
        if (File.Exists(p)) files.Add(p);
        else if (Directory.Exists(p)) files.AddRange(InputFiles(p));
        else return Usage($"no such file or directory: {p}");
    }
    var outcomes = new Dictionary<string, int>();
    foreach (var f in files)
    {
        var bytes = File.ReadAllBytes(f);
        var sw = Stopwatch.StartNew();
        var result = crashes.Try(bytes, f);
        string what = result?.ToString() ?? "CRASH";
        outcomes[what] = outcomes.GetValueOrDefault(what) + 1;
        Console.WriteLine($"{(result is null ? "CRASH" : "ok   ")} {sw.ElapsedMilliseconds,6} ms  {what,-16} {f}");
    }
    Console.WriteLine($"replay: {files.Count} inputs ({string.Join(", ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Value} {o.Key}"))})");
}
else
{
    var seeds = BuiltInSeeds.Create().Select(s => (s.Name, s.Bytes)).ToList();
    foreach (var dir in seedDirs)
    {
        if (!Directory.Exists(dir)) return Usage($"no such directory: {dir}");
        seeds.AddRange(InputFiles(dir).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))));
    }
    var mutator = new SmokeMutator(seed);
    var total = Stopwatch.StartNew();
    long slowest = 0;
    int done = 0;
    for (int i = 0; i < smoke && total.Elapsed.TotalSeconds < maxSeconds; i++, done++)
    {
        var (name, bytes) = seeds[i % seeds.Count];
        var mutated = mutator.Mutate(bytes, out var how);
        var sw = Stopwatch.StartNew();
        crashes.Try(mutated, $"mutation {i} of {name}: {how}");
        slowest = Math.Max(slowest, sw.ElapsedMilliseconds);
    }
    Console.WriteLine($"smoke: {done} mutations of {seeds.Count} seeds (random seed {seed}) in {total.Elapsed.TotalSeconds:F1} s, slowest {slowest} ms");
}
crashes.Report();
return crashes.Distinct > 0 ? 1 : 0;

static IEnumerable<string> InputFiles(string dir) =>
    Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
        .Where(f => !Path.GetFileName(f).StartsWith('.') && !Path.GetFileName(f).StartsWith("README", StringComparison.OrdinalIgnoreCase))
        .Order(StringComparer.Ordinal);

static int Usage(string message)
{
    Console.Error.WriteLine($"Yingyun.Dicom.Fuzz: {message}");
    Console.Error.WriteLine("usage: Yingyun.Dicom.Fuzz                         (AFL mode, input on stdin)");
    Console.Error.WriteLine("       Yingyun.Dicom.Fuzz --replay PATH... [--save-crashes DIR]");
    Console.Error.WriteLine("       Yingyun.Dicom.Fuzz --dump FILE");
    Console.Error.WriteLine("       Yingyun.Dicom.Fuzz --smoke N [--seeds DIR]... [--seed S] [--max-seconds T] [--save-crashes DIR]");
    Console.Error.WriteLine("       Yingyun.Dicom.Fuzz --write-seeds DIR");
    return 2;
}

/// <summary>Runs inputs through the target and groups the crashes by signature.</summary>
internal sealed class CrashLog(string? saveDir)
{
    private readonly Dictionary<string, (byte[] Input, string Name, Exception Error, int Count)> _bySignature = new(StringComparer.Ordinal);

    public int Distinct => _bySignature.Count;

    public ReaderTarget.Outcome? Try(byte[] input, string name)
    {
        try
        {
            return ReaderTarget.Run(input);
        }
        catch (Exception e)
        {
            string sig = ReaderTarget.Signature(e);
            if (_bySignature.TryGetValue(sig, out var known))
                _bySignature[sig] = input.Length < known.Input.Length ? (input, name, e, known.Count + 1) : known with { Count = known.Count + 1 };
            else
            {
                _bySignature[sig] = (input, name, e, 1);
                Console.WriteLine($"CRASH {sig}{Environment.NewLine}      input: {name}");
            }
            return null;
        }
    }

    public void Report()
    {
        if (_bySignature.Count == 0)
        {
            Console.WriteLine("no crashes");
            return;
        }
        Console.WriteLine($"{_bySignature.Values.Sum(v => v.Count)} crashing inputs, {_bySignature.Count} distinct:");
        foreach (var (sig, (input, name, error, count)) in _bySignature.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Console.WriteLine($"---- {sig} ({count}x; smallest input {input.Length} bytes: {name})");
            Console.WriteLine(error.ToString());
            if (saveDir is null) continue;
            Directory.CreateDirectory(saveDir);
            string file = Path.Combine(saveDir, $"crash-{Convert.ToHexStringLower(SHA256.HashData(input))[..16]}.dcm");
            File.WriteAllBytes(file, input);
            Console.WriteLine($"saved as {file}");
        }
    }
}

internal static class Coverage
{
    public static unsafe void EnableWithoutAfl()
    {
        if (SharpFuzz.Common.Trace.SharedMem == null)
            SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16);
    }
}
