using System.Buffers.Binary;
using System.Text;
using Yingyun.Dicom;
using Yingyun.Dimse.Fuzz;
using Yingyun.Fuzz;

namespace Yingyun.Dimse.Tests.Fuzz;

/// <summary>Runs the PDU fuzz target (tests/fuzz/Yingyun.Dimse.Fuzz/PduTarget.cs, linked here: the decoders, the
/// policy, and a real acceptor over the bytes) over every input that once crashed it (Fuzz/regressions, filled by
/// tests/fuzz/run.sh), over its built-in seeds, and over fixed smoke mutations of them. An unexpected exception, a
/// broken invariant, or a run over 30 s fails the test.</summary>
public class FuzzRegressionTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private static string RegressionsDirectory => Path.Combine(AppContext.BaseDirectory, "Fuzz", "regressions");

    public static TheoryData<string> RegressionFiles()
    {
        var data = new TheoryData<string>();
        if (Directory.Exists(RegressionsDirectory))
            foreach (var f in Directory.EnumerateFiles(RegressionsDirectory).Order(StringComparer.Ordinal))
                if (!Path.GetFileName(f).StartsWith('.')) data.Add(Path.GetFileName(f));
        // xUnit refuses a theory without data: an empty folder still runs one (trivial) case.
        if (data.Count == 0) data.Add("");
        return data;
    }

    [Theory]
    [MemberData(nameof(RegressionFiles))]
    public async Task Regression_input_does_not_crash_the_upper_layer(string name)
    {
        if (name.Length == 0) return;
        var bytes = await File.ReadAllBytesAsync(Path.Combine(RegressionsDirectory, name));
        await RunWithLimit(bytes, name);
    }

    [Fact]
    public async Task Built_in_seeds_run_as_their_names_say()
    {
        var outcomes = new Dictionary<string, AssociationEndReason>();
        foreach (var (name, bytes) in PduSeeds.Create())
            outcomes[name] = await RunWithLimit(bytes, name);
        outcomes["echo"].Should().Be(AssociationEndReason.Released);
        outcomes["store"].Should().Be(AssociationEndReason.Released);
        outcomes["find"].Should().Be(AssociationEndReason.Released);
        outcomes["get"].Should().Be(AssociationEndReason.AbortedByPeer);
        outcomes["rejected-called-ae"].Should().Be(AssociationEndReason.Rejected);
        outcomes["rejected-calling-ae"].Should().Be(AssociationEndReason.Rejected);
        outcomes["rejected-protocol-version"].Should().Be(AssociationEndReason.Rejected);
        outcomes["unknown-abstract-syntax"].Should().Be(AssociationEndReason.AbortedLocally);
    }

    [Fact]
    public async Task Smoke_mutations_of_the_built_in_seeds_do_not_crash_the_upper_layer()
    {
        var seeds = PduSeeds.Create();
        var mutator = new PduSmokeMutator(seed: 20240131);
        var failures = new StringBuilder();
        await Task.Run(() =>
        {
            for (int i = 0; i < 5000; i++)
            {
                var (seedName, seed) = seeds[i % seeds.Count];
                var input = mutator.Mutate(seed, out var how);
                try
                {
                    PduTarget.Run(input);
                }
                catch (Exception e)
                {
                    failures.AppendLine($"mutation {i} of {seedName} ({how}): {Signature(e)}");
                    failures.AppendLine($"  input: {Convert.ToBase64String(input)}");
                    failures.AppendLine($"  {e}");
                }
            }
        }).WaitAsync(Limit * 4);
        failures.ToString().Should().BeEmpty();
    }

    /// <summary>Found by the fuzzer (regressions/crash-46bd58e53498d390.pdu): after its A-ASSOCIATE-RJ the acceptor
    /// is in Sta13, where a P-DATA-TF is ignored (AA-6) and its body skipped. A peer that closed the connection
    /// inside that body made the skip throw past the receive loop's transport handling, to be logged as a
    /// failed connection handler. The close is just Evt17 (AR-5).</summary>
    [Fact]
    public async Task Connection_closing_inside_an_ignored_P_DATA_TF_after_a_reject_is_a_plain_close()
    {
        var rq = new AssociateRequest { CalledAeTitle = "SOMEONE-ELSE", CallingAeTitle = "ECHOSCU" };
        rq.PresentationContexts.Add(new PresentationContextRequestItem(1, DicomUids.Verification, [DicomUids.ImplicitVRLittleEndian]));
        var pdataHeader = new byte[6 + 10];
        pdataHeader[0] = (byte)PduType.PData;
        BinaryPrimitives.WriteUInt32BigEndian(pdataHeader.AsSpan(2), 100); // 100 announced, 10 sent, then the end
        byte[] input = [.. PduEncoder.Encode(rq), .. pdataHeader];

        (await RunWithLimit(input, "reject, then a P-DATA-TF cut short")).Should().Be(AssociationEndReason.Rejected);
    }

    /// <summary>Found while writing the target's negotiation oracle: PS3.7 §D.3.3.4 allows one role selection item
    /// per SOP class, but the policy answered every item it got. An A-ASSOCIATE-RQ whose user information item (at
    /// most 65535 bytes) is filled with one repeated role selection and a short implementation class UID made an
    /// A-ASSOCIATE-AC whose user information item (the same roles, plus our longer class UID and version name) no
    /// longer fits its 16-bit length: the encoder threw out of the acceptor instead of answering.</summary>
    [Fact]
    public async Task Repeated_role_selections_do_not_overflow_the_accept()
    {
        (await RunWithLimit(RepeatedRoleSelections(), "A-ASSOCIATE-RQ full of one role selection")).Should().Be(AssociationEndReason.TransportClosed);
    }

    /// <summary>An A-ASSOCIATE-RQ for Verification whose user information item is as full as it gets of role
    /// selections for Verification, after a one-character implementation class UID.</summary>
    internal static byte[] RepeatedRoleSelections()
    {
        static byte[] Item(byte type, byte[] value) => [type, 0, (byte)(value.Length >> 8), (byte)value.Length, .. value];
        byte[] verification = Encoding.ASCII.GetBytes(DicomUids.Verification);
        byte[] role = Item(0x54, [0, (byte)verification.Length, .. verification, 1, 0]);
        var userInformation = new List<byte>();
        userInformation.AddRange(Item(0x51, [0, 0, 0x40, 0]));
        userInformation.AddRange(Item(0x52, "1"u8.ToArray()));
        while (userInformation.Count + role.Length <= ushort.MaxValue) userInformation.AddRange(role);
        var body = new List<byte> { 0, 1, 0, 0 };
        body.AddRange(Encoding.ASCII.GetBytes(PduTarget.AeTitle.PadRight(16)));
        body.AddRange(Encoding.ASCII.GetBytes("ECHOSCU".PadRight(16)));
        body.AddRange(new byte[32]);
        body.AddRange(Item(0x10, Encoding.ASCII.GetBytes(DicomUids.DICOMApplicationContext)));
        body.AddRange(Item(0x20, [1, 0, 0, 0, .. Item(0x30, verification), .. Item(0x40, Encoding.ASCII.GetBytes(DicomUids.ImplicitVRLittleEndian))]));
        body.AddRange(Item(0x50, [.. userInformation]));
        var pdu = new byte[6 + body.Count];
        pdu[0] = (byte)PduType.AssociateRequest;
        BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(2), (uint)body.Count);
        body.CopyTo(pdu, 6);
        return pdu;
    }

    private static string Signature(Exception e) => CrashSignature.Of(e, "Yingyun.Dimse.", "Yingyun.Dicom.");

    private static async Task<AssociationEndReason> RunWithLimit(byte[] input, string name)
    {
        var run = Task.Run(() =>
        {
            try
            {
                return (PduTarget.Run(input), (Exception?)null);
            }
            catch (Exception e)
            {
                return (AssociationEndReason.None, e);
            }
        });
        if (await Task.WhenAny(run, Task.Delay(Limit)) != run)
            Assert.Fail($"{name}: the target ran for more than {Limit.TotalSeconds} s (a hang)");
        var (outcome, error) = await run;
        if (error is not null)
            Assert.Fail($"{name}: {Signature(error)}{Environment.NewLine}{error}");
        return outcome;
    }
}
