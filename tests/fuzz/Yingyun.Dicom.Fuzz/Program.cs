using Yingyun.Dicom;
using Yingyun.Dicom.Fuzz;
using Yingyun.Fuzz;

// Yingyun.Dicom.Fuzz: the SharpFuzz harness for the DICOM reader (see ReaderTarget for what is a crash; the
// command line is FuzzDriver's, tests/fuzz/Shared/FuzzDriver.cs).
return FuzzDriver.Run(args, new ReaderFuzzTarget());

internal sealed class ReaderFuzzTarget : IFuzzTarget
{
    public string Program => "Yingyun.Dicom.Fuzz";

    public string InputExtension => ".dcm";

    public string Run(ReadOnlyMemory<byte> input) => ReaderTarget.Run(input).ToString();

    public string Signature(Exception e) => ReaderTarget.Signature(e);

    public IReadOnlyList<(string Name, byte[] Bytes)> BuiltInSeeds() => Yingyun.Dicom.Fuzz.BuiltInSeeds.Create();

    public SmokeMutatorBase CreateMutator(int seed) => new SmokeMutator(seed);

    public IEnumerable<(string Name, byte[] Token)> Dictionary() => [];

    /// <summary>What memory and stream mode read (dcmdump-like, with problems).</summary>
    public void Dump(byte[] input, TextWriter output)
    {
        foreach (var (mode, read) in new (string, Func<DicomFile>)[]
        {
            ("memory mode", () => DicomReader.Read(input)),
            ("stream mode", () => DicomReader.ReadAsync(new NonSeekableStream(input, ReaderTarget.ChunkSize(input.Length))).GetAwaiter().GetResult()),
        })
        {
            output.WriteLine($"==== {mode}");
            try { DicomDump.Write(output, read()); }
            catch (DicomReadException e) { output.WriteLine($"DicomReadException: {e.Message}"); }
        }
    }
}
