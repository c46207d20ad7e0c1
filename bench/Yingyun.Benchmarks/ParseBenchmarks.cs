using BenchmarkDotNet.Attributes;
using Yingyun.Dicom;

namespace Yingyun.Benchmarks;

/// <summary>Part 10 parse and write over a generated CT series (bench/parse.sh: 500 slices of 512×512×16 bit).
/// Each operation handles every file of the series once: divide by <see cref="Files"/> for per-file figures.</summary>
[MemoryDiagnoser]
public class ParseBenchmarks
{
    private string[] _paths = [];
    private byte[][] _bytes = [];
    private DicomFile[] _parsed = [];
    private int[] _datasetStarts = [];
    private static readonly DicomReaderOptions HeaderOnly = new() { StopBeforeTag = DicomTag.PixelDataTag };
    private static readonly DicomReaderOptions LoadAll = new() { BulkDataThreshold = int.MaxValue };

    public static int Files { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var dir = Environment.GetEnvironmentVariable("YINGYUN_BENCH_CT")
            ?? throw new InvalidOperationException("set YINGYUN_BENCH_CT to a folder of .dcm files (bench/parse.sh does)");
        _paths = Directory.EnumerateFiles(dir, "*.dcm", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        if (_paths.Length == 0) throw new InvalidOperationException($"no .dcm files under {dir}");
        Files = _paths.Length;
        _bytes = _paths.Select(File.ReadAllBytes).ToArray();
        _parsed = _bytes.Select(b => DicomReader.Read(b)).ToArray();
        _datasetStarts = _bytes.Select(b => 132 + 12 + (int)BitConverter.ToUInt32(b, 140)).ToArray();
    }

    [Benchmark(Description = "header only, from file (stop before Pixel Data)")]
    public async Task<int> HeaderOnlyFromFile()
    {
        int n = 0;
        foreach (var p in _paths) n += (await DicomReader.OpenAsync(p, HeaderOnly).ConfigureAwait(false)).Dataset.Count;
        return n;
    }

    [Benchmark(Description = "full, from file (pixel data loaded)")]
    public async Task<int> FullFromFile()
    {
        int n = 0;
        foreach (var p in _paths) n += (await DicomReader.OpenAsync(p, LoadAll).ConfigureAwait(false)).Dataset.Count;
        return n;
    }

    [Benchmark(Description = "full, from file (pixel data left on disk)")]
    public async Task<int> FullLazyFromFile()
    {
        int n = 0;
        foreach (var p in _paths) n += (await DicomReader.OpenAsync(p).ConfigureAwait(false)).Dataset.Count;
        return n;
    }

    [Benchmark(Description = "full, from memory (zero copy)")]
    public int FullFromMemory()
    {
        int n = 0;
        foreach (var b in _bytes) n += DicomReader.Read(b).Dataset.Count;
        return n;
    }

    [Benchmark(Description = "scan element headers, from memory")]
    public int ScanFromMemory()
    {
        int n = 0;
        for (int i = 0; i < _bytes.Length; i++)
        {
            var scanner = new DicomElementScanner(_bytes[i], DicomTransferSyntax.ExplicitVRLittleEndian, _datasetStarts[i]);
            while (scanner.MoveNext()) n++;
        }
        return n;
    }

    [Benchmark(Description = "write Part 10, explicit VR LE, to a null stream")]
    public async Task WritePart10()
    {
        foreach (var f in _parsed)
            await DicomWriter.WriteFileAsync(Stream.Null, f, DicomTransferSyntax.ExplicitVRLittleEndian).ConfigureAwait(false);
    }
}
