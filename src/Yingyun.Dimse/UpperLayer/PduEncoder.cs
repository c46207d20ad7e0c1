using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Yingyun.Dimse;

/// <summary>Encodes the association PDUs. All multi-byte fields are big endian (PS3.8 §9.3.1). These PDUs are small
/// and rare; the P-DATA-TF hot path writes its headers itself (<see cref="PDataHeader"/>).</summary>
public static class PduEncoder
{
    public static byte[] Encode(AssociateRequest request)
    {
        var w = new ArrayBufferWriter<byte>(512);
        int lengthAt = BeginAssociatePdu(w, PduType.AssociateRequest, request);
        foreach (var pc in request.PresentationContexts)
        {
            if ((pc.Id & 1) == 0) throw new ArgumentException($"presentation context ID {pc.Id} is even; PS3.8 §9.3.2.2 requires odd IDs");
            if (pc.TransferSyntaxes.Count == 0) throw new ArgumentException($"presentation context {pc.Id} proposes no transfer syntax");
            int itemAt = BeginItem(w, ItemType.PresentationContextRequest);
            WriteBytes(w, [pc.Id, 0, 0, 0]);
            WriteUidItem(w, ItemType.AbstractSyntax, pc.AbstractSyntax);
            foreach (var ts in pc.TransferSyntaxes) WriteUidItem(w, ItemType.TransferSyntax, ts);
            EndItem(w, itemAt);
        }
        WriteUserInformation(w, request.UserInformation, isRequest: true);
        return EndPdu(w, lengthAt);
    }

    public static byte[] Encode(AssociateAccept accept)
    {
        var w = new ArrayBufferWriter<byte>(512);
        int lengthAt = BeginAssociatePdu(w, PduType.AssociateAccept, accept);
        foreach (var pc in accept.PresentationContexts)
        {
            int itemAt = BeginItem(w, ItemType.PresentationContextAccept);
            WriteBytes(w, [pc.Id, 0, (byte)pc.Result, 0]);
            // PS3.8 §9.3.3.2: the transfer syntax sub-item is always present but not tested when the context is rejected.
            WriteUidItem(w, ItemType.TransferSyntax, pc.Result == PresentationContextResult.Acceptance ? pc.TransferSyntax : "");
            EndItem(w, itemAt);
        }
        WriteUserInformation(w, accept.UserInformation, isRequest: false);
        return EndPdu(w, lengthAt);
    }

    public static byte[] Encode(AssociateReject reject) =>
        FixedPdu(PduType.AssociateReject, 0, (byte)reject.Result, (byte)reject.Source, reject.Reason);

    public static byte[] Encode(AbortPdu abort) => FixedPdu(PduType.Abort, 0, 0, (byte)abort.Source, (byte)abort.Reason);

    public static byte[] EncodeReleaseRequest() => FixedPdu(PduType.ReleaseRequest, 0, 0, 0, 0);

    public static byte[] EncodeReleaseResponse() => FixedPdu(PduType.ReleaseResponse, 0, 0, 0, 0);

    private static byte[] FixedPdu(PduType type, byte b6, byte b7, byte b8, byte b9) =>
        [(byte)type, 0, 0, 0, 0, 4, b6, b7, b8, b9];

    private static int BeginAssociatePdu(ArrayBufferWriter<byte> w, PduType type, AssociatePdu pdu)
    {
        WriteBytes(w, [(byte)type, 0]);
        int lengthAt = w.WrittenCount;
        WriteUInt32(w, 0);
        WriteUInt16(w, pdu.ProtocolVersion);
        WriteUInt16(w, 0);
        WriteAeTitle(w, pdu.CalledAeTitle);
        WriteAeTitle(w, pdu.CallingAeTitle);
        w.GetSpan(32)[..32].Clear();
        w.Advance(32);
        WriteUidItem(w, ItemType.ApplicationContext, pdu.ApplicationContextName);
        return lengthAt;
    }

    private static byte[] EndPdu(ArrayBufferWriter<byte> w, int lengthAt)
    {
        var bytes = w.WrittenSpan.ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(lengthAt), (uint)(bytes.Length - 6));
        return bytes;
    }

    private static void WriteUserInformation(ArrayBufferWriter<byte> w, UserInformation ui, bool isRequest)
    {
        int userAt = BeginItem(w, ItemType.UserInformation);

        int at = BeginItem(w, ItemType.MaximumLength);
        WriteUInt32(w, ui.MaximumLength);
        EndItem(w, at);

        WriteUidItem(w, ItemType.ImplementationClassUid, ui.ImplementationClassUid);

        if (ui.AsynchronousOperationsWindow is { } window)
        {
            at = BeginItem(w, ItemType.AsynchronousOperationsWindow);
            WriteUInt16(w, window.MaximumOperationsInvoked);
            WriteUInt16(w, window.MaximumOperationsPerformed);
            EndItem(w, at);
        }

        foreach (var role in ui.RoleSelections)
        {
            at = BeginItem(w, ItemType.RoleSelection);
            WriteLengthPrefixedAscii(w, role.SopClassUid);
            WriteBytes(w, [role.ScuRole ? (byte)1 : (byte)0, role.ScpRole ? (byte)1 : (byte)0]);
            EndItem(w, at);
        }

        if (ui.ImplementationVersionName is { Length: > 0 } version)
        {
            if (version.Length > 16) throw new ArgumentException($"implementation version name '{version}' is longer than 16 characters (PS3.7 §D.3.3.2.3)");
            at = BeginItem(w, ItemType.ImplementationVersionName);
            WriteAscii(w, version);
            EndItem(w, at);
        }

        foreach (var ext in ui.SopClassExtendedNegotiations)
        {
            at = BeginItem(w, ItemType.SopClassExtendedNegotiation);
            WriteLengthPrefixedAscii(w, ext.SopClassUid);
            WriteBytes(w, ext.ServiceClassApplicationInformation.Span);
            EndItem(w, at);
        }

        if (isRequest)
        {
            foreach (var common in ui.SopClassCommonExtendedNegotiations)
            {
                // PS3.7 §D.3.3.6: byte 2 is the sub-item version, 0.
                at = BeginItem(w, ItemType.SopClassCommonExtendedNegotiation);
                WriteLengthPrefixedAscii(w, common.SopClassUid);
                WriteLengthPrefixedAscii(w, common.ServiceClassUid);
                int relatedLength = common.RelatedGeneralSopClassUids.Sum(u => 2 + u.Length);
                WriteUInt16(w, checked((ushort)relatedLength));
                foreach (var related in common.RelatedGeneralSopClassUids) WriteLengthPrefixedAscii(w, related);
                EndItem(w, at);
            }

            if (ui.UserIdentity is { } identity)
            {
                at = BeginItem(w, ItemType.UserIdentityRequest);
                WriteBytes(w, [(byte)identity.Type, identity.PositiveResponseRequested ? (byte)1 : (byte)0]);
                WriteUInt16(w, checked((ushort)identity.PrimaryField.Length));
                WriteBytes(w, identity.PrimaryField.Span);
                WriteUInt16(w, checked((ushort)identity.SecondaryField.Length));
                WriteBytes(w, identity.SecondaryField.Span);
                EndItem(w, at);
            }
        }
        else if (ui.UserIdentityAccept is { } identityAccept)
        {
            at = BeginItem(w, ItemType.UserIdentityAccept);
            WriteUInt16(w, checked((ushort)identityAccept.ServerResponse.Length));
            WriteBytes(w, identityAccept.ServerResponse.Span);
            EndItem(w, at);
        }

        EndItem(w, userAt);
    }

    private static int BeginItem(ArrayBufferWriter<byte> w, ItemType type)
    {
        WriteBytes(w, [(byte)type, 0]);
        int at = w.WrittenCount;
        WriteUInt16(w, 0);
        return at;
    }

    // Item lengths are 16-bit (PS3.8 §9.3.2.1): patch the length once the item's content is written.
    private static void EndItem(ArrayBufferWriter<byte> w, int lengthAt)
    {
        int length = w.WrittenCount - lengthAt - 2;
        if (length > ushort.MaxValue) throw new ArgumentException($"an item of {length} bytes does not fit the 16-bit item length (PS3.8 §9.3.2)");
        // ArrayBufferWriter has no public way to patch written bytes; its WrittenMemory aliases the buffer.
        var span = System.Runtime.InteropServices.MemoryMarshal.AsMemory(w.WrittenMemory).Span;
        BinaryPrimitives.WriteUInt16BigEndian(span[lengthAt..], (ushort)length);
    }

    private static void WriteUidItem(ArrayBufferWriter<byte> w, ItemType type, string uid)
    {
        int at = BeginItem(w, type);
        WriteAscii(w, uid);
        EndItem(w, at);
    }

    private static void WriteLengthPrefixedAscii(ArrayBufferWriter<byte> w, string text)
    {
        WriteUInt16(w, checked((ushort)text.Length));
        WriteAscii(w, text);
    }

    private static void WriteAeTitle(ArrayBufferWriter<byte> w, string aeTitle)
    {
        var title = aeTitle.Trim();
        if (!ApplicationEntityTitle.IsValid(title)) throw new ArgumentException($"'{aeTitle}' is not a valid AE title (PS3.5 §6.2 AE: 1–16 characters, no backslash or control characters)");
        var span = w.GetSpan(16)[..16];
        span.Fill((byte)' ');
        Encoding.ASCII.GetBytes(title, span);
        w.Advance(16);
    }

    private static void WriteAscii(ArrayBufferWriter<byte> w, string text)
    {
        foreach (char c in text)
            if (c > 0x7F) throw new ArgumentException($"'{text}' contains non-ASCII characters");
        int n = Encoding.ASCII.GetBytes(text, w.GetSpan(text.Length));
        w.Advance(n);
    }

    private static void WriteBytes(ArrayBufferWriter<byte> w, ReadOnlySpan<byte> bytes) => w.Write(bytes);

    private static void WriteUInt16(ArrayBufferWriter<byte> w, ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(w.GetSpan(2), value);
        w.Advance(2);
    }

    private static void WriteUInt32(ArrayBufferWriter<byte> w, uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(w.GetSpan(4), value);
        w.Advance(4);
    }
}

/// <summary>AE title rules shared by the encoder, the decoder and the policy (PS3.5 §6.2, VR AE).</summary>
public static class ApplicationEntityTitle
{
    /// <summary>1–16 characters of the default repertoire, no backslash or control characters, not all spaces.</summary>
    public static bool IsValid(ReadOnlySpan<char> title)
    {
        title = title.Trim(' ');
        if (title.Length is 0 or > 16) return false;
        foreach (char c in title)
            if (c < 0x20 || c > 0x7E || c == '\\') return false;
        return true;
    }
}
