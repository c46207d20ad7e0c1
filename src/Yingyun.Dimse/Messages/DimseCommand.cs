using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Yingyun.Dicom;

namespace Yingyun.Dimse;

/// <summary>A DIMSE command set (PS3.7 §6.3, §E.1): the elements of group 0000, with typed access to the fields
/// the services use. The data set is the single source of truth so that unknown or retired command elements sent by
/// a peer survive a round trip.</summary>
public sealed class DimseCommand
{
    /// <summary>CommandDataSetType value meaning "no data set" (PS3.7 §E.1); any other value means one follows.</summary>
    public const ushort NoDataSet = 0x0101;

    public DimseCommand() : this(new DicomDataset()) { }

    public DimseCommand(DicomDataset dataset) => Dataset = dataset;

    public DicomDataset Dataset { get; }

    public DimseCommandField CommandField
    {
        get => (DimseCommandField)(GetUInt16(DicomTags.CommandField) ?? 0);
        set => SetUInt16(DicomTags.CommandField, (ushort)value);
    }

    public bool IsRequest => ((ushort)CommandField & 0x8000) == 0;

    public ushort MessageId
    {
        get => GetUInt16(DicomTags.MessageID) ?? 0;
        set => SetUInt16(DicomTags.MessageID, value);
    }

    public ushort MessageIdBeingRespondedTo
    {
        get => GetUInt16(DicomTags.MessageIDBeingRespondedTo) ?? 0;
        set => SetUInt16(DicomTags.MessageIDBeingRespondedTo, value);
    }

    public string? AffectedSopClassUid
    {
        get => GetString(DicomTags.AffectedSOPClassUID);
        set => SetString(DicomTags.AffectedSOPClassUID, DicomVR.UI, value);
    }

    public string? RequestedSopClassUid
    {
        get => GetString(DicomTags.RequestedSOPClassUID);
        set => SetString(DicomTags.RequestedSOPClassUID, DicomVR.UI, value);
    }

    public string? AffectedSopInstanceUid
    {
        get => GetString(DicomTags.AffectedSOPInstanceUID);
        set => SetString(DicomTags.AffectedSOPInstanceUID, DicomVR.UI, value);
    }

    public string? RequestedSopInstanceUid
    {
        get => GetString(DicomTags.RequestedSOPInstanceUID);
        set => SetString(DicomTags.RequestedSOPInstanceUID, DicomVR.UI, value);
    }

    /// <summary>The SOP class of the request: Affected SOP Class UID, or Requested for N-ACTION/N-GET/N-SET/N-DELETE.</summary>
    public string? SopClassUid => AffectedSopClassUid ?? RequestedSopClassUid;

    public ushort CommandDataSetType
    {
        get => GetUInt16(DicomTags.CommandDataSetType) ?? NoDataSet;
        set => SetUInt16(DicomTags.CommandDataSetType, value);
    }

    public bool HasDataSet
    {
        get => CommandDataSetType != NoDataSet;
        // PS3.7 §E.1: "any value other than 0101H" means present; 0000H is customary.
        set => CommandDataSetType = value ? (ushort)0x0000 : NoDataSet;
    }

    public DimsePriority Priority
    {
        get => (DimsePriority)(GetUInt16(DicomTags.Priority) ?? 0);
        set => SetUInt16(DicomTags.Priority, (ushort)value);
    }

    public DimseStatus Status
    {
        get => new(GetUInt16(DicomTags.Status) ?? 0);
        set => SetUInt16(DicomTags.Status, value.Code);
    }

    public bool HasStatus => Dataset.Contains(DicomTags.Status);

    public string? ErrorComment
    {
        get => GetString(DicomTags.ErrorComment);
        // LO: at most 64 characters (PS3.5 Table 6.2-1).
        set => SetString(DicomTags.ErrorComment, DicomVR.LO, value is { Length: > 64 } ? value[..64] : value);
    }

    public string? MoveDestination
    {
        get => GetString(DicomTags.MoveDestination);
        set => SetString(DicomTags.MoveDestination, DicomVR.AE, value);
    }

    public string? MoveOriginatorAeTitle
    {
        get => GetString(DicomTags.MoveOriginatorApplicationEntityTitle);
        set => SetString(DicomTags.MoveOriginatorApplicationEntityTitle, DicomVR.AE, value);
    }

    public ushort? MoveOriginatorMessageId
    {
        get => GetUInt16(DicomTags.MoveOriginatorMessageID);
        set => SetOptionalUInt16(DicomTags.MoveOriginatorMessageID, value);
    }

    public ushort? NumberOfRemainingSuboperations
    {
        get => GetUInt16(DicomTags.NumberOfRemainingSuboperations);
        set => SetOptionalUInt16(DicomTags.NumberOfRemainingSuboperations, value);
    }

    public ushort? NumberOfCompletedSuboperations
    {
        get => GetUInt16(DicomTags.NumberOfCompletedSuboperations);
        set => SetOptionalUInt16(DicomTags.NumberOfCompletedSuboperations, value);
    }

    public ushort? NumberOfFailedSuboperations
    {
        get => GetUInt16(DicomTags.NumberOfFailedSuboperations);
        set => SetOptionalUInt16(DicomTags.NumberOfFailedSuboperations, value);
    }

    public ushort? NumberOfWarningSuboperations
    {
        get => GetUInt16(DicomTags.NumberOfWarningSuboperations);
        set => SetOptionalUInt16(DicomTags.NumberOfWarningSuboperations, value);
    }

    public ushort? EventTypeId
    {
        get => GetUInt16(DicomTags.EventTypeID);
        set => SetOptionalUInt16(DicomTags.EventTypeID, value);
    }

    public ushort? ActionTypeId
    {
        get => GetUInt16(DicomTags.ActionTypeID);
        set => SetOptionalUInt16(DicomTags.ActionTypeID, value);
    }

    public ushort? GetUInt16(DicomTag tag) =>
        Dataset.TryGetElement(tag, out var e) && e.Value.IsInMemory && e.Length >= 2
            ? BinaryPrimitives.ReadUInt16LittleEndian(e.Span)
            : null;

    public void SetUInt16(DicomTag tag, ushort value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        Dataset.AddOrUpdate(new DicomElement(tag, DicomVR.US, bytes));
    }

    private void SetOptionalUInt16(DicomTag tag, ushort? value)
    {
        if (value is { } v) SetUInt16(tag, v);
        else Dataset.Remove(tag);
    }

    /// <summary>The value as text without its padding (trailing NUL or spaces, and leading spaces of AE titles).</summary>
    public string? GetString(DicomTag tag)
    {
        if (!Dataset.TryGetElement(tag, out var e) || !e.Value.IsInMemory) return null;
        var s = Encoding.ASCII.GetString(e.Span).TrimEnd('\0', ' ');
        return e.VR == DicomVR.AE ? s.TrimStart(' ') : s;
    }

    public void SetString(DicomTag tag, DicomVR vr, string? value)
    {
        if (value is null)
        {
            Dataset.Remove(tag);
            return;
        }
        int length = Encoding.ASCII.GetByteCount(value);
        var bytes = new byte[length + (length & 1)];
        Encoding.ASCII.GetBytes(value, bytes);
        if ((length & 1) == 1) bytes[^1] = vr.PaddingByte();
        Dataset.AddOrUpdate(new DicomElement(tag, vr, bytes));
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{CommandField} id={(IsRequest ? MessageId : MessageIdBeingRespondedTo)}");
        if (SopClassUid is { } sop) sb.Append(' ').Append(DicomUids.GetName(sop));
        if (HasStatus) sb.Append(" status=").Append(Status.ToString());
        return sb.ToString();
    }

    public static DimseCommand CreateRequest(DimseCommandField field, ushort messageId, string affectedSopClassUid, bool hasDataSet)
    {
        var c = new DimseCommand();
        c.AffectedSopClassUid = affectedSopClassUid;
        c.CommandField = field;
        c.MessageId = messageId;
        c.HasDataSet = hasDataSet;
        return c;
    }

    /// <summary>A response to <paramref name="request"/>: same SOP class (and instance), the request's message ID, the
    /// command field with bit 15 set (PS3.7 §9.3, §10.3).</summary>
    public static DimseCommand CreateResponse(DimseCommand request, DimseStatus status, bool hasDataSet = false)
    {
        var c = new DimseCommand();
        if (request.AffectedSopClassUid is { } sop) c.AffectedSopClassUid = sop;
        else if (request.RequestedSopClassUid is { } requested) c.AffectedSopClassUid = requested;
        c.CommandField = (DimseCommandField)((ushort)request.CommandField | 0x8000);
        c.MessageIdBeingRespondedTo = request.MessageId;
        c.HasDataSet = hasDataSet;
        c.Status = status;
        if (request.AffectedSopInstanceUid is { } instance) c.AffectedSopInstanceUid = instance;
        else if (request.RequestedSopInstanceUid is { } requestedInstance) c.AffectedSopInstanceUid = requestedInstance;
        return c;
    }
}

/// <summary>Encodes and decodes command sets. PS3.7 §6.3.1: command sets are always implicit VR little endian,
/// whatever the negotiated transfer syntax, and start with the group length (0000,0000).</summary>
public static class CommandSetCodec
{
    /// <summary>Bytes of an implicit VR LE element header: tag 4, length 4 (PS3.5 §7.1.3).</summary>
    private const int HeaderLength = 8;

    public static int GetEncodedLength(DimseCommand command)
    {
        int length = HeaderLength + 4;
        foreach (var item in command.Dataset)
            if (item is DicomElement e && e.Tag != DicomTags.CommandGroupLength) length += HeaderLength + (int)e.Length;
        return length;
    }

    /// <summary>Writes the command set into <paramref name="destination"/>, which must hold <see cref="GetEncodedLength"/> bytes.</summary>
    public static int Encode(DimseCommand command, Span<byte> destination)
    {
        int total = GetEncodedLength(command);
        if (destination.Length < total) throw new ArgumentException($"command set needs {total} bytes", nameof(destination));
        // (0000,0000) UL: the bytes that follow the group length element (PS3.5 §7.2).
        BinaryPrimitives.WriteUInt32LittleEndian(destination, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)(total - HeaderLength - 4));
        int at = HeaderLength + 4;
        foreach (var item in command.Dataset)
        {
            if (item is not DicomElement e || e.Tag == DicomTags.CommandGroupLength) continue;
            if (e.Tag.Group != 0) throw new InvalidOperationException($"{e.Tag} is not a command element (group 0000)");
            BinaryPrimitives.WriteUInt16LittleEndian(destination[at..], e.Tag.Group);
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(at + 2)..], e.Tag.Element);
            BinaryPrimitives.WriteUInt32LittleEndian(destination[(at + 4)..], (uint)e.Length);
            e.Span.CopyTo(destination[(at + HeaderLength)..]);
            at += HeaderLength + (int)e.Length;
        }
        return at;
    }

    public static byte[] Encode(DimseCommand command)
    {
        var bytes = new byte[GetEncodedLength(command)];
        Encode(command, bytes);
        return bytes;
    }

    /// <summary>Decodes a command set; throws <see cref="DicomReadException"/> when an element runs past the end or
    /// belongs to another group.</summary>
    public static DimseCommand Decode(ReadOnlySpan<byte> bytes)
    {
        var dataset = new DicomDataset(16);
        int at = 0;
        while (at < bytes.Length)
        {
            if (bytes.Length - at < HeaderLength) throw new DicomReadException("command set ends inside an element header", at);
            var tag = new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(bytes[at..]), BinaryPrimitives.ReadUInt16LittleEndian(bytes[(at + 2)..]));
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(at + 4)..]);
            if (tag.Group != 0) throw new DicomReadException("command set contains an element outside group 0000 (PS3.7 §6.3.1)", at, tag);
            if (length > (uint)(bytes.Length - at - HeaderLength))
                throw new DicomReadException($"element length {length} runs past the end of the command set", at, tag);
            var value = bytes.Slice(at + HeaderLength, (int)length).ToArray();
            if (tag != DicomTags.CommandGroupLength)
                dataset.AddOrUpdate(new DicomElement(tag, DicomDictionary.GetImplicitVR(tag), value));
            at += HeaderLength + (int)length;
        }
        var command = new DimseCommand(dataset);
        if (!dataset.Contains(DicomTags.CommandField)) throw new DicomReadException("command set has no Command Field (0000,0100)", 0, DicomTags.CommandField);
        return command;
    }
}
