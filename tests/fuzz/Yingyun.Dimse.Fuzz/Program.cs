using System.Text;
using Yingyun.Dicom;
using Yingyun.Dimse;
using Yingyun.Dimse.Fuzz;
using Yingyun.Fuzz;

// Yingyun.Dimse.Fuzz: the SharpFuzz harness for the DICOM upper layer (see PduTarget for what is a crash; the
// command line is FuzzDriver's, tests/fuzz/Shared/FuzzDriver.cs).
return FuzzDriver.Run(args, new PduFuzzTarget());

internal sealed class PduFuzzTarget : IFuzzTarget
{
    public string Program => "Yingyun.Dimse.Fuzz";

    public string InputExtension => ".pdu";

    public string Run(ReadOnlyMemory<byte> input) => PduTarget.Run(input).ToString();

    public string Signature(Exception e) => CrashSignature.Of(e, "Yingyun.Dimse.", "Yingyun.Dicom.");

    public IReadOnlyList<(string Name, byte[] Bytes)> BuiltInSeeds() => PduSeeds.Create();

    public SmokeMutatorBase CreateMutator(int seed) => new PduSmokeMutator(seed);

    public void Dump(byte[] input, TextWriter output) => PduTarget.Dump(input, output);

    /// <summary>PDU and item headers (PS3.8 §9.3), the UIDs negotiation turns on, and command set element tags and
    /// command field values (implicit VR little endian, PS3.7 §E.1).</summary>
    public IEnumerable<(string Name, byte[] Token)> Dictionary()
    {
        foreach (var type in Enum.GetValues<PduType>())
            yield return ($"pdu_{(byte)type:x2}", [(byte)type, 0]);
        foreach (var item in Enum.GetValues<ItemType>())
            yield return ($"item_{(byte)item:x2}", [(byte)item, 0]);
        yield return ("maximum_length", [0x51, 0, 0, 4]);
        yield return ("fixed_length_4", [0, 0, 0, 4]);
        yield return ("pdv_command_last", [0x03]);
        string[] uids =
        [
            DicomUids.DICOMApplicationContext, DicomUids.Verification, DicomUids.ImplicitVRLittleEndian, DicomUids.ExplicitVRLittleEndian,
            DicomUids.ExplicitVRBigEndian, DicomUids.DeflatedExplicitVRLittleEndian, DicomUids.JPEGBaseline8Bit, DicomUids.JPEG2000, DicomUids.RLELossless,
            DicomUids.CTImageStorage, DicomUids.StudyRootQueryRetrieveInformationModelFind, DicomUids.StudyRootQueryRetrieveInformationModelMove,
            DicomUids.StudyRootQueryRetrieveInformationModelGet, DicomUids.PatientRootQueryRetrieveInformationModelFind, DicomUids.StorageCommitmentPushModel,
        ];
        foreach (var uid in uids) yield return ($"uid_{uid.Replace('.', '_')}", Encoding.ASCII.GetBytes(uid));
        yield return ("ae_title", Encoding.ASCII.GetBytes(PduTarget.AeTitle.PadRight(16)));
        DicomTag[] tags =
        [
            DicomTags.CommandGroupLength, DicomTags.AffectedSOPClassUID, DicomTags.RequestedSOPClassUID, DicomTags.CommandField, DicomTags.MessageID,
            DicomTags.MessageIDBeingRespondedTo, DicomTags.MoveDestination, DicomTags.Priority, DicomTags.CommandDataSetType, DicomTags.Status,
            DicomTags.ErrorComment, DicomTags.AffectedSOPInstanceUID, DicomTags.RequestedSOPInstanceUID, DicomTags.ActionTypeID,
        ];
        foreach (var tag in tags)
            yield return ($"tag_{tag.Group:x4}{tag.Element:x4}", [(byte)tag.Group, (byte)(tag.Group >> 8), (byte)tag.Element, (byte)(tag.Element >> 8)]);
        foreach (var field in Enum.GetValues<DimseCommandField>())
            yield return ($"command_{(ushort)field:x4}", [(byte)field, (byte)((ushort)field >> 8)]);
        yield return ("no_data_set", [0x01, 0x01]);
    }
}
