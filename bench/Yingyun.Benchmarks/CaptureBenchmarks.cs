using BenchmarkDotNet.Attributes;
using Yingyun.Dicom;

namespace Yingyun.Benchmarks;

/// <summary>The C-STORE receive path without the network: each data set of the CT series passed through
/// <see cref="DicomHeaderCapture"/> from a forward-only stream that hands out 16 KiB reads (a P-DATA-TF's worth), to a
/// null sink. What is left per file is the header parse, the structure walk and the hash. Each operation handles every
/// file once (YINGYUN_BENCH_CT, as <see cref="ParseBenchmarks"/>).</summary>
[MemoryDiagnoser]
public class CaptureBenchmarks
{
    private byte[][] _dataSets = [];

    [GlobalSetup]
    public void Setup()
    {
        var dir = Environment.GetEnvironmentVariable("YINGYUN_BENCH_CT")
            ?? throw new InvalidOperationException("set YINGYUN_BENCH_CT to a folder of .dcm files (bench/parse.sh generates one)");
        _dataSets = Directory.EnumerateFiles(dir, "*.dcm", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(File.ReadAllBytes)
            .Select(b => b[(132 + 12 + (int)BitConverter.ToUInt32(b, 140))..])
            .ToArray();
    }

    [Benchmark(Description = "capture: header + structure + XxHash128, 16 KiB reads, null sink")]
    public async Task<long> Capture()
    {
        long n = 0;
        foreach (var d in _dataSets)
        {
            var result = await DicomHeaderCapture.CaptureAsync(new Reads(d, 16 * 1024), Stream.Null, DicomTransferSyntax.ExplicitVRLittleEndian).ConfigureAwait(false);
            n += result.Length;
        }
        return n;
    }

    private sealed class Reads(byte[] bytes, int size) : ForwardOnlyReadStream
    {
        private int _position;

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(Math.Min(size, buffer.Length), bytes.Length - _position);
            bytes.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }
    }
}
