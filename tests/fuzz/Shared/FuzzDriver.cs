using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using SharpFuzz;

namespace Yingyun.Fuzz;

/// <summary>One fuzz target as the driver sees it: the harness projects (tests/fuzz/Yingyun.*.Fuzz) each give one.</summary>
internal interface IFuzzTarget
{
    /// <summary>Program name, for messages ("Yingyun.Dicom.Fuzz").</summary>
    string Program { get; }

    /// <summary>Extension of saved inputs and seeds (".dcm", ".pdu").</summary>
    string InputExtension { get; }

    /// <summary>Runs the target over one input and names what it did (for replay reports); any exception is a crash.</summary>
    string Run(ReadOnlyMemory<byte> input);

    /// <summary>Name of a crash for grouping (see <see cref="CrashSignature"/>).</summary>
    string Signature(Exception e);

    /// <summary>Small valid inputs made with the library itself.</summary>
    IReadOnlyList<(string Name, byte[] Bytes)> BuiltInSeeds();

    SmokeMutatorBase CreateMutator(int seed);

    /// <summary>Prints what the target makes of <paramref name="input"/>, for a human looking at a crash.</summary>
    void Dump(byte[] input, TextWriter output);

    /// <summary>Tokens for afl-fuzz's dictionary (-x): magic values the format is built from.</summary>
    IEnumerable<(string Name, byte[] Token)> Dictionary();
}

/// <summary>The command line shared by the harnesses:
/// <code>
///   (no arguments)                   AFL mode: run under afl-fuzz (tests/fuzz/run.sh sets it up); without
///                                    afl-fuzz, runs the target once over stdin
///   --replay PATH...                 run the target over files (directories: every file below, dot files and
///                                    README* skipped); exit 1 if any crashes
///   --smoke N [--seeds DIR]...       N random mutations of the built-in seeds and the files in DIR, in process,
///             [--seed S]             with a fixed random seed (default 1): for machines without AFL;
///             [--max-seconds T]      stops early after T seconds
///   --write-seeds DIR                write the built-in seeds
///   --write-dictionary FILE          write an afl-fuzz dictionary (-x) for the format
///   --dump FILE                      print what the target makes of FILE
///   --save-crashes DIR               with --replay/--smoke: keep the smallest input of each distinct crash in
///                                    DIR, named by its SHA-256
/// </code>
/// Exit codes: 0 no crash, 1 crashes, 2 usage.</summary>
internal static class FuzzDriver
{
    public static int Run(string[] args, IFuzzTarget target)
    {
        if (args.Length == 0)
        {
            Fuzzer.OutOfProcess.Run(stream =>
            {
                using var ms = new MemoryStream();
                stream.CopyTo(ms);
                target.Run(ms.GetBuffer().AsMemory(0, (int)ms.Length));
            });
            return 0;
        }

        // Outside afl-fuzz, an instrumented library (.build/fuzz/*/app) still writes coverage: give it a scratch
        // map (SharpFuzz does the same when Fuzzer.Run runs without afl-fuzz).
        Coverage.EnableWithoutAfl();

        if (args is ["--dump", var dumpFile])
        {
            target.Dump(File.ReadAllBytes(dumpFile), Console.Out);
            return 0;
        }

        if (args is ["--write-seeds", var seedOut])
        {
            Directory.CreateDirectory(seedOut);
            foreach (var (name, bytes) in target.BuiltInSeeds())
                File.WriteAllBytes(Path.Combine(seedOut, $"builtin-{name}{target.InputExtension}"), bytes);
            return 0;
        }

        if (args is ["--write-dictionary", var dictionaryOut])
        {
            using var w = new StreamWriter(dictionaryOut);
            foreach (var (name, token) in target.Dictionary())
                w.WriteLine($"{name}=\"{string.Concat(token.Select(b => b is >= 0x20 and < 0x7F and not (byte)'"' and not (byte)'\\' ? ((char)b).ToString() : $"\\x{b:X2}"))}\"");
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
                    if (replay.Count == 0) return Usage(target, "--replay needs a file or directory");
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
                    return Usage(target, $"unexpected argument '{args[i]}'");
            }
        }
        if ((replay.Count > 0) == (smoke >= 0)) return Usage(target, "give either --replay or --smoke");

        var crashes = new CrashLog(target, saveDir);
        if (replay.Count > 0)
        {
            var files = new List<string>();
            foreach (var p in replay)
            {
                if (File.Exists(p)) files.Add(p);
                else if (Directory.Exists(p)) files.AddRange(InputFiles(p));
                else return Usage(target, $"no such file or directory: {p}");
            }
            var outcomes = new Dictionary<string, int>();
            foreach (var f in files)
            {
                var bytes = File.ReadAllBytes(f);
                var sw = Stopwatch.StartNew();
                string what = crashes.Try(bytes, f) ?? "CRASH";
                outcomes[what] = outcomes.GetValueOrDefault(what) + 1;
                Console.WriteLine($"{(what == "CRASH" ? "CRASH" : "ok   ")} {sw.ElapsedMilliseconds,6} ms  {what,-16} {f}");
            }
            Console.WriteLine($"replay: {files.Count} inputs ({string.Join(", ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Value} {o.Key}"))})");
        }
        else
        {
            var seeds = target.BuiltInSeeds().ToList();
            foreach (var dir in seedDirs)
            {
                if (!Directory.Exists(dir)) return Usage(target, $"no such directory: {dir}");
                seeds.AddRange(InputFiles(dir).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))));
            }
            var mutator = target.CreateMutator(seed);
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
    }

    private static IEnumerable<string> InputFiles(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetFileName(f).StartsWith('.') && !Path.GetFileName(f).StartsWith("README", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal);

    private static int Usage(IFuzzTarget target, string message)
    {
        string p = target.Program;
        Console.Error.WriteLine($"{p}: {message}");
        Console.Error.WriteLine($"usage: {p}                         (AFL mode, input on stdin)");
        Console.Error.WriteLine($"       {p} --replay PATH... [--save-crashes DIR]");
        Console.Error.WriteLine($"       {p} --dump FILE");
        Console.Error.WriteLine($"       {p} --smoke N [--seeds DIR]... [--seed S] [--max-seconds T] [--save-crashes DIR]");
        Console.Error.WriteLine($"       {p} --write-seeds DIR");
        Console.Error.WriteLine($"       {p} --write-dictionary FILE");
        return 2;
    }
}

/// <summary>Runs inputs through the target and groups the crashes by signature.</summary>
internal sealed class CrashLog(IFuzzTarget target, string? saveDir)
{
    private readonly Dictionary<string, (byte[] Input, string Name, Exception Error, int Count)> _bySignature = new(StringComparer.Ordinal);

    public int Distinct => _bySignature.Count;

    /// <summary>What the target did, or null if it crashed.</summary>
    public string? Try(byte[] input, string name)
    {
        try
        {
            return target.Run(input);
        }
        catch (Exception e)
        {
            string sig = target.Signature(e);
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
            string file = Path.Combine(saveDir, $"crash-{Convert.ToHexStringLower(SHA256.HashData(input))[..16]}{target.InputExtension}");
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
