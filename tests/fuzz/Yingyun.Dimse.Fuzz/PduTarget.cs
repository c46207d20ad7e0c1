using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Logging;
using Yingyun.Dicom;
using Yingyun.Fuzz;

namespace Yingyun.Dimse.Fuzz;

/// <summary>
/// The fuzz target for the DICOM upper layer, shared by the AFL harness (tests/fuzz/Yingyun.Dimse.Fuzz) and the
/// regression tests (linked into Yingyun.Dimse.Tests). An input is what a peer sends on a DICOM connection: a
/// sequence of PDUs (PS3.8 §9.3). One run over it has two stages.
/// <list type="number">
/// <item><b>The decoders, PDU by PDU.</b> Each PDU (6-byte header, PS3.8 §9.3.1; a body cut short by the end of the
/// input is decoded as far as it goes) goes to the <see cref="PduDecoder"/> method of its type. A decoded
/// A-ASSOCIATE-RQ, -AC, -RJ or A-ABORT is encoded again with <see cref="PduEncoder"/>, decoded, and encoded once
/// more: the two encodings must be identical (decoding normalises: padding, the transfer syntax of a rejected
/// context, empty version names). A decoded A-ASSOCIATE-RQ is also put to <see cref="AssociationPolicy"/> (the
/// acceptor's negotiation): its A-ASSOCIATE-AC must encode, decode, answer each proposed context once and accept
/// only a proposed transfer syntax. The PDV items of P-DATA-TF PDUs (§9.3.5) are walked; command fragments are
/// assembled (PS3.7 §6.3.1, Annex E) and decoded with <see cref="CommandSetCodec.Decode"/>; a decoded command set
/// is read through every typed property, answered with <see cref="DimseCommand.CreateResponse"/>, and encoded and
/// decoded again to the same elements.</item>
/// <item><b>The acceptor.</b> The whole input is the peer's side of a connection to a real acceptor
/// (<see cref="DicomAssociation"/>'s acceptor run, as <see cref="DicomServer"/> runs it) with an
/// <see cref="AssociationPolicy"/> and the <see cref="DimseServices"/> (C-ECHO; C-STORE into a handler that reads
/// the data set; C-FIND/C-MOVE/C-GET identifiers and Storage Commitment action information decoded and checked,
/// then refused, since no query or commitment handler is set: those would answer in the background, and runs must
/// be deterministic for afl-fuzz), read in chunks of 1 to 251 bytes. After the input ends the association must end; everything it sent back must be valid:
/// one A-ASSOCIATE-AC or -RJ first, P-DATA-TF only after an AC and only on accepted contexts, every command set a
/// decodable response, nothing but an A-ABORT after an A-ASSOCIATE-RJ or A-RELEASE-RP (AA-7 in Sta13) and nothing
/// at all after an A-ABORT, and an A-ABORT's source and reason from PS3.8 Table 9-26.</item>
/// </list>
/// Expected, and swallowed: <see cref="PduFormatException"/> from the <see cref="PduDecoder"/> methods (the
/// decoder's one way of saying "invalid PDU"; its <see cref="PduFormatException.Reason"/> must be a reason of
/// Table 9-26); <see cref="DicomReadException"/> from <see cref="CommandSetCodec.Decode"/>; and
/// <see cref="ArgumentException"/> from <see cref="PduEncoder"/> when it refuses a value decoded from the input
/// (an AE title or UID with characters outside the default repertoire: the decoder is lenient, the encoder strict).
/// Everything else is a crash: any other exception type anywhere (in particular any exception escaping the
/// acceptor, or caught by its last-resort handlers, which log it at Error level as "connection handler failed" or
/// "handler failed"); the encoder refusing what the policy itself produced; a broken invariant above, thrown as
/// <see cref="FuzzOracleException"/>; the association still running 10 s after its input ended (a hang; a loop
/// that never returns is caught by afl-fuzz's own time limit and by the regression tests' 30 s); and a run that
/// allocates more than <see cref="AllocationBudget"/> (unbounded allocation: a length read from the input sizing a
/// buffer that the input does not fill).
/// </summary>
internal static class PduTarget
{
    /// <summary>The acceptor's AE title; the seeds call it.</summary>
    public const string AeTitle = "YINGYUN";

    /// <summary>A calling AE title the authorizer turns away (A-ASSOCIATE-RJ, calling AE title not recognized).</summary>
    public const string RejectedCallingAeTitle = "NOT-ALLOWED";

    private static readonly TimeSpan EndLimit = TimeSpan.FromSeconds(10);

    private static bool s_warm;

    /// <summary>The options of the acceptor: the server's defaults, except that nothing waits on a timer.</summary>
    public static DicomAssociationOptions Options() => new() { ArtimTimeout = TimeSpan.FromSeconds(30), IdleTimeout = null };

    public static AssociationPolicy Policy() => new() { AeTitle = AeTitle, Authorizer = new FuzzAuthorizer() };

    /// <summary>Bytes one run may allocate on its thread: the association's fixed buffers (a PDU body up to the
    /// A-ASSOCIATE limit, the send buffer, the pipe's buffer, a command set) twice over, since the shared array pool
    /// drops its arrays on a full garbage collection; 2 MiB of small objects; and 256 bytes per input byte (both
    /// stages decode everything, into objects several times the size of their bytes; seeds and mutations measure
    /// 20–150 KiB and 100–650 bytes per input byte in all). Everything a run allocates grows with what the input
    /// holds; a run that needs more allocated for a length it was told rather than for bytes it received.</summary>
    public static long AllocationBudget(int inputLength)
    {
        var o = Options();
        long fixedBuffers = o.MaximumAssociatePduLength + o.MaximumSendPduLength + o.ReceiveBufferSize + o.MaximumCommandLength;
        return 2 * fixedBuffers + (2 << 20) + 256L * inputLength;
    }

    public static AssociationEndReason Run(ReadOnlyMemory<byte> input)
    {
        if (!s_warm)
        {
            // The first run of a process loads the dictionaries and fills the buffer pools: do that before
            // anything is measured.
            s_warm = true;
            RunStages(PduSeeds.Create()[0].Bytes);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        var outcome = RunStages(input);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > AllocationBudget(input.Length))
            throw new FuzzOracleException($"unbounded allocation: {allocated} bytes for an input of {input.Length} (budget {AllocationBudget(input.Length)})");
        return outcome;
    }

    private static AssociationEndReason RunStages(ReadOnlyMemory<byte> input)
    {
        var request = DecodeAll(input);
        return RunAcceptor(input, request, null);
    }

    // ---------------------------------------------------------------- stage 1: the decoders

    /// <summary>Splits <paramref name="input"/> into PDUs and decodes each; returns the first PDU's A-ASSOCIATE-RQ,
    /// if it is one that decodes.</summary>
    private static AssociateRequest? DecodeAll(ReadOnlyMemory<byte> input)
    {
        AssociateRequest? first = null;
        var command = new CommandAssembler();
        bool isFirst = true;
        foreach (var (type, body, _) in SplitPdus(input))
        {
            var rq = DecodeOne(type, body, command);
            if (isFirst) first = rq;
            isFirst = false;
        }
        return first;
    }

    /// <summary>The PDUs of <paramref name="input"/> as a reader sees them: stops at a byte that is no PDU type
    /// (1–7, PS3.8 §9.3.1), and gives a PDU cut short by the end of the input with what there is of its body.</summary>
    internal static List<(byte Type, ReadOnlyMemory<byte> Body, bool Truncated)> SplitPdus(ReadOnlyMemory<byte> memory)
    {
        var pdus = new List<(byte, ReadOnlyMemory<byte>, bool)>();
        int at = 0;
        while (memory.Length - at >= 6)
        {
            byte type = memory.Span[at];
            if (type is < 1 or > 7) break;
            uint length = BinaryPrimitives.ReadUInt32BigEndian(memory.Span[(at + 2)..]);
            int available = memory.Length - at - 6;
            if (length > (uint)available)
            {
                pdus.Add((type, memory.Slice(at + 6, available), true));
                break;
            }
            pdus.Add((type, memory.Slice(at + 6, (int)length), false));
            at += 6 + (int)length;
        }
        return pdus;
    }

    private static AssociateRequest? DecodeOne(byte type, ReadOnlyMemory<byte> bodyMemory, CommandAssembler command)
    {
        var body = bodyMemory.Span;
        try
        {
            switch ((PduType)type)
            {
                case PduType.AssociateRequest:
                    var rq = PduDecoder.DecodeAssociateRequest(body);
                    CheckRoundTrip(rq, PduEncoder.Encode, b => PduDecoder.DecodeAssociateRequest(b), "A-ASSOCIATE-RQ");
                    CheckNegotiation(rq);
                    return rq;
                case PduType.AssociateAccept:
                    var ac = PduDecoder.DecodeAssociateAccept(body);
                    CheckRoundTrip(ac, PduEncoder.Encode, b => PduDecoder.DecodeAssociateAccept(b), "A-ASSOCIATE-AC");
                    break;
                case PduType.AssociateReject:
                    var rj = PduDecoder.DecodeAssociateReject(body);
                    if (PduDecoder.DecodeAssociateReject(PduEncoder.Encode(rj).AsSpan(6)) != rj)
                        throw new FuzzOracleException($"A-ASSOCIATE-RJ {rj} reads back differently");
                    _ = rj.ToString();
                    break;
                case PduType.Abort:
                    var abort = PduDecoder.DecodeAbort(body);
                    if (PduDecoder.DecodeAbort(PduEncoder.Encode(abort).AsSpan(6)) != abort)
                        throw new FuzzOracleException($"A-ABORT {abort} reads back differently");
                    _ = abort.ToString();
                    break;
                case PduType.ReleaseRequest or PduType.ReleaseResponse:
                    PduDecoder.DecodeRelease(body, (PduType)type);
                    break;
                case PduType.PData:
                    WalkPdvs(body, command);
                    break;
            }
        }
        catch (PduFormatException e)
        {
            // The reason goes into the A-ABORT the association sends: it must be one Table 9-26 defines.
            if (!Enum.IsDefined(e.Reason))
                throw new FuzzOracleException($"PduFormatException with reason {(byte)e.Reason}, not one of PS3.8 Table 9-26", e);
        }
        return null;
    }

    /// <summary>Encode, decode, encode: the two encodings must be the same bytes. The first encoding may refuse a
    /// value the lenient decoder let through (<see cref="ArgumentException"/>); the second may not.</summary>
    private static void CheckRoundTrip<T>(T decoded, Func<T, byte[]> encode, Func<byte[], T> decodeBody, string what)
    {
        byte[] once;
        try
        {
            once = encode(decoded);
        }
        catch (ArgumentException)
        {
            return;
        }
        T again;
        try
        {
            again = decodeBody(once[6..]);
        }
        catch (PduFormatException e)
        {
            throw new FuzzOracleException($"our encoding of a decoded {what} does not decode", e);
        }
        byte[] twice;
        try
        {
            twice = encode(again);
        }
        catch (ArgumentException e)
        {
            throw new FuzzOracleException($"our encoding of a decoded {what}, decoded, does not encode", e);
        }
        if (!once.AsSpan().SequenceEqual(twice))
        {
            int at = once.AsSpan().CommonPrefixLength(twice);
            throw new FuzzOracleException($"a decoded {what} encodes differently the second time (first difference at byte {at} of {once.Length}/{twice.Length})");
        }
    }

    /// <summary>The acceptor's negotiation (PS3.8 §9.3.3, PS3.7 Annex D.3) over a decoded request, as
    /// <see cref="DicomAssociation"/> completes it before sending.</summary>
    private static void CheckNegotiation(AssociateRequest rq)
    {
        var options = Options();
        var decision = Policy().NegotiateAsync(new AssociationRequestContext(rq, null, options), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        if (decision.AcceptPdu is not { } ac)
        {
            if (decision.RejectPdu is not { } rj) throw new FuzzOracleException("the policy neither accepted nor rejected");
            PduEncoder.Encode(rj);
            return;
        }
        ac.CalledAeTitle = rq.CalledAeTitle;
        ac.CallingAeTitle = rq.CallingAeTitle;
        ac.UserInformation.MaximumLength = options.MaximumPduLength;
        byte[] bytes = PduEncoder.Encode(ac);
        AssociateAccept back;
        try
        {
            back = PduDecoder.DecodeAssociateAccept(bytes.AsSpan(6));
        }
        catch (PduFormatException e)
        {
            throw new FuzzOracleException("the A-ASSOCIATE-AC the policy made does not decode", e);
        }
        CheckAnswers(rq, back);
    }

    /// <summary>PS3.8 §9.3.3.2: one answer per proposed context, with its ID; an accepted one names a transfer
    /// syntax proposed for it.</summary>
    private static void CheckAnswers(AssociateRequest rq, AssociateAccept ac)
    {
        if (ac.PresentationContexts.Count != rq.PresentationContexts.Count)
            throw new FuzzOracleException($"the A-ASSOCIATE-AC answers {ac.PresentationContexts.Count} of {rq.PresentationContexts.Count} proposed contexts");
        foreach (var answer in ac.PresentationContexts)
        {
            var proposed = rq.PresentationContexts.Find(p => p.Id == answer.Id)
                ?? throw new FuzzOracleException($"the A-ASSOCIATE-AC answers presentation context {answer.Id}, which was not proposed");
            if (answer.Result == PresentationContextResult.Acceptance && !proposed.TransferSyntaxes.Contains(answer.TransferSyntax))
                throw new FuzzOracleException($"the A-ASSOCIATE-AC accepts presentation context {answer.Id} with {answer.TransferSyntax}, which was not proposed");
        }
    }

    /// <summary>PDV items (PS3.8 §9.3.5.1): 4-byte length, context ID, message control header, data.</summary>
    private static void WalkPdvs(ReadOnlySpan<byte> body, CommandAssembler command)
    {
        while (body.Length >= 6)
        {
            uint itemLength = BinaryPrimitives.ReadUInt32BigEndian(body);
            if (itemLength < 2 || itemLength - 2 > (uint)(body.Length - 6)) return;
            byte control = body[5];
            var data = body.Slice(6, (int)itemLength - 2);
            if ((control & 1) != 0 && command.Add(data, isLast: (control & 2) != 0) is { } set) CheckCommandSet(set);
            body = body[(4 + (int)itemLength)..];
        }
    }

    /// <summary>Assembles command fragments (PS3.8 Annex E) up to the association's command length limit.</summary>
    private sealed class CommandAssembler
    {
        private readonly List<byte> _bytes = [];

        public byte[]? Add(ReadOnlySpan<byte> fragment, bool isLast)
        {
            if (_bytes.Count + fragment.Length > Options().MaximumCommandLength)
            {
                _bytes.Clear();
                return null;
            }
            _bytes.AddRange(fragment);
            if (!isLast) return null;
            byte[] set = [.. _bytes];
            _bytes.Clear();
            return set;
        }
    }

    private static void CheckCommandSet(byte[] bytes)
    {
        DimseCommand command;
        try
        {
            command = CommandSetCodec.Decode(bytes);
        }
        catch (DicomReadException)
        {
            return;
        }
        Touch(command);
        var response = DimseCommand.CreateResponse(command, command.Status, command.HasDataSet);
        Touch(response);
        CommandSetCodec.Encode(response);
        var again = CommandSetCodec.Decode(CommandSetCodec.Encode(command));
        string before = Elements(command), after = Elements(again);
        if (before != after)
            throw new FuzzOracleException($"a decoded command set reads back differently:{Environment.NewLine}  {before}{Environment.NewLine}  {after}");
    }

    /// <summary>Every typed property, as the services read them.</summary>
    private static void Touch(DimseCommand c)
    {
        _ = c.ToString();
        _ = (c.CommandField, c.IsRequest, c.MessageId, c.MessageIdBeingRespondedTo, c.AffectedSopClassUid, c.RequestedSopClassUid);
        _ = (c.AffectedSopInstanceUid, c.RequestedSopInstanceUid, c.SopClassUid, c.CommandDataSetType, c.HasDataSet, c.Priority);
        _ = (c.Status.ToString(), c.HasStatus, c.ErrorComment, c.MoveDestination, c.MoveOriginatorAeTitle, c.MoveOriginatorMessageId);
        _ = (c.NumberOfRemainingSuboperations, c.NumberOfCompletedSuboperations, c.NumberOfFailedSuboperations, c.NumberOfWarningSuboperations);
        _ = (c.EventTypeId, c.ActionTypeId);
    }

    private static string Elements(DimseCommand c)
    {
        var sb = new StringBuilder();
        foreach (var item in c.Dataset)
            if (item is DicomElement e && e.Tag != DicomTags.CommandGroupLength)
                sb.Append(e.Tag).Append(' ').Append(e.VR.ToText()).Append(' ').Append(Convert.ToHexString(e.Span)).Append("; ");
        return sb.ToString();
    }

    // ---------------------------------------------------------------- stage 2: the acceptor

    /// <summary>Runs a real acceptor over the input; returns how the association ended. With
    /// <paramref name="report"/>, writes what it sent and logged there.</summary>
    private static AssociationEndReason RunAcceptor(ReadOnlyMemory<byte> input, AssociateRequest? request, TextWriter? report)
    {
        var log = new RecordingLogger { KeepLines = report is not null };
        var stream = new PeerStream(input, ChunkSize(input.Length));
        var services = new DimseServices { StoreHandler = new ReadingStoreHandler(), Logger = log };
        DicomAssociation? association = null;
        var run = DicomAssociation.RunAcceptorAsync(null, stream, Options(), Policy(), services, log, null, CancellationToken.None,
            onEnded: a => association = a);
        if (report is not null)
        {
            try
            {
                run.WaitAsync(EndLimit).GetAwaiter().GetResult();
            }
            catch (Exception e)
            {
                report.WriteLine($"the acceptor failed: {e}");
            }
            foreach (var line in log.Lines) report.WriteLine($"  log {line}");
            foreach (var (type, body, truncated) in SplitPdus(stream.Written))
                report.WriteLine($"  sent {Describe(type, body.Span, truncated)}");
            report.WriteLine($"  ended: {association?.EndReason}");
        }
        try
        {
            run.WaitAsync(EndLimit).GetAwaiter().GetResult();
        }
        catch (TimeoutException)
        {
            throw new FuzzOracleException($"the association still runs {EndLimit.TotalSeconds} s after its input ended (state {association?.State})");
        }
        if (log.Failure is { } failure)
        {
            string message = $"the association caught an unexpected exception (logged as {failure.Event})";
            throw failure.Exception is { } caught ? new FuzzOracleException(message, caught) : new FuzzOracleException(message);
        }
        CheckSent(stream.Written, request);
        return association?.EndReason ?? AssociationEndReason.None;
    }

    // ---------------------------------------------------------------- --dump

    /// <summary>What the decoders make of each PDU of <paramref name="input"/>, then what the acceptor sent and logged.</summary>
    public static void Dump(ReadOnlyMemory<byte> input, TextWriter w)
    {
        w.WriteLine($"==== {input.Length} bytes from the peer");
        var pdus = SplitPdus(input);
        foreach (var (type, body, truncated) in pdus) w.WriteLine(Describe(type, body.Span, truncated));
        int consumed = pdus.Sum(p => 6 + p.Body.Length);
        if (consumed < input.Length) w.WriteLine($"{input.Length - consumed} bytes that are no PDU (type {input.Span[consumed]:X2}H)");
        AssociateRequest? request = null;
        try
        {
            if (pdus.Count > 0 && pdus[0].Type == (byte)PduType.AssociateRequest) request = PduDecoder.DecodeAssociateRequest(pdus[0].Body.Span);
        }
        catch (PduFormatException)
        {
        }
        w.WriteLine("==== the acceptor");
        try
        {
            RunAcceptor(input, request, w);
        }
        catch (FuzzOracleException e)
        {
            w.WriteLine($"CRASH {e}");
        }
    }

    private static string Describe(byte type, ReadOnlySpan<byte> body, bool truncated)
    {
        var sb = new StringBuilder($"{(PduType)type} ({body.Length} bytes{(truncated ? ", cut short by the end of the input" : "")})");
        try
        {
            switch ((PduType)type)
            {
                case PduType.AssociateRequest:
                    var rq = PduDecoder.DecodeAssociateRequest(body);
                    sb.Append($": v{rq.ProtocolVersion} '{rq.CallingAeTitle}' -> '{rq.CalledAeTitle}', {rq.ApplicationContextName}");
                    foreach (var pc in rq.PresentationContexts) sb.Append($"{Environment.NewLine}    {pc}");
                    AppendUserInformation(sb, rq.UserInformation);
                    break;
                case PduType.AssociateAccept:
                    var ac = PduDecoder.DecodeAssociateAccept(body);
                    sb.Append($": v{ac.ProtocolVersion} '{ac.CallingAeTitle}' -> '{ac.CalledAeTitle}', {ac.ApplicationContextName}");
                    foreach (var pc in ac.PresentationContexts) sb.Append($"{Environment.NewLine}    {pc}");
                    AppendUserInformation(sb, ac.UserInformation);
                    break;
                case PduType.AssociateReject:
                    sb.Append($": {PduDecoder.DecodeAssociateReject(body)}");
                    break;
                case PduType.Abort:
                    sb.Append($": {PduDecoder.DecodeAbort(body)}");
                    break;
                case PduType.ReleaseRequest or PduType.ReleaseResponse:
                    PduDecoder.DecodeRelease(body, (PduType)type);
                    break;
                case PduType.PData:
                    while (body.Length >= 6)
                    {
                        uint length = BinaryPrimitives.ReadUInt32BigEndian(body);
                        sb.Append($"{Environment.NewLine}    PDV length {length}, context {body[4]}, control {body[5]:X2}H");
                        if (length < 2 || length - 2 > (uint)(body.Length - 6)) { sb.Append(" (does not fit)"); return sb.ToString(); }
                        var data = body.Slice(6, (int)length - 2);
                        if ((body[5] & 3) == 3)
                        {
                            try { sb.Append($": {CommandSetCodec.Decode(data)} [{Elements(CommandSetCodec.Decode(data))}]"); }
                            catch (DicomReadException e) { sb.Append($": DicomReadException: {e.Message}"); }
                        }
                        body = body[(4 + (int)length)..];
                    }
                    if (!body.IsEmpty) sb.Append($"{Environment.NewLine}    {body.Length} bytes too few for a PDV item header");
                    break;
            }
        }
        catch (PduFormatException e)
        {
            sb.Append($": PduFormatException ({e.Reason}): {e.Message}");
        }
        return sb.ToString();
    }

    private static void AppendUserInformation(StringBuilder sb, UserInformation ui)
    {
        sb.Append($"{Environment.NewLine}    user information: maximum length {ui.MaximumLength}, {ui.ImplementationClassUid} '{ui.ImplementationVersionName}'");
        if (ui.AsynchronousOperationsWindow is { } window) sb.Append($", {window}");
        foreach (var role in ui.RoleSelections) sb.Append($", {role}");
        foreach (var ext in ui.SopClassExtendedNegotiations) sb.Append($", extended negotiation {ext.SopClassUid} ({ext.ServiceClassApplicationInformation.Length} bytes)");
        foreach (var common in ui.SopClassCommonExtendedNegotiations) sb.Append($", common extended negotiation {common.SopClassUid} {common.ServiceClassUid} [{string.Join(", ", common.RelatedGeneralSopClassUids)}]");
        if (ui.UserIdentity is { } identity) sb.Append($", identity {identity}");
        if (ui.UserIdentityAccept is { } response) sb.Append($", identity response ({response.ServerResponse.Length} bytes)");
    }

    /// <summary>Chunks of 1 to 251 bytes, varying with the input, so that headers straddle the pipe's reads.</summary>
    internal static int ChunkSize(int length) => 1 + length % 251;

    /// <summary>What the acceptor sent must be a valid answer (PS3.8 §9.3, Table 9-10).</summary>
    private static void CheckSent(byte[] sent, AssociateRequest? request)
    {
        var pdus = SplitPdus(sent);
        int consumed = pdus.Sum(p => 6 + p.Body.Length);
        if (consumed != sent.Length || pdus.Exists(p => p.Truncated))
            throw new FuzzOracleException($"the acceptor sent {sent.Length} bytes that are not whole PDUs");
        HashSet<byte>? accepted = null;
        string? final = null;
        var command = new List<byte>();
        for (int i = 0; i < pdus.Count; i++)
        {
            var (type, bodyMemory, _) = pdus[i];
            var body = bodyMemory.Span;
            var what = (PduType)type;
            // Sta13 (PS3.8 Table 9-10): after an A-ASSOCIATE-RJ or A-RELEASE-RP, an unrecognized PDU or another
            // A-ASSOCIATE-RQ is answered with an A-ABORT (AA-7); after its own A-ABORT the acceptor only drains.
            if (final is not null && !(what == PduType.Abort && final != "A-ABORT"))
                throw new FuzzOracleException($"the acceptor sent {what} after {final}");
            try
            {
                switch (what)
                {
                    case PduType.AssociateAccept when i == 0:
                        var ac = PduDecoder.DecodeAssociateAccept(body);
                        if (request is null) throw new FuzzOracleException("the acceptor accepted without a decodable A-ASSOCIATE-RQ");
                        CheckAnswers(request, ac);
                        accepted = [.. ac.PresentationContexts.Where(p => p.Result == PresentationContextResult.Acceptance).Select(p => p.Id)];
                        break;
                    case PduType.AssociateReject when i == 0:
                        PduDecoder.DecodeAssociateReject(body);
                        final = "A-ASSOCIATE-RJ";
                        break;
                    case PduType.PData when accepted is not null:
                        CheckSentPData(body, accepted, command);
                        break;
                    case PduType.ReleaseResponse when accepted is not null:
                        PduDecoder.DecodeRelease(body, what);
                        final = "A-RELEASE-RP";
                        break;
                    case PduType.Abort:
                        var abort = PduDecoder.DecodeAbort(body);
                        bool valid = abort.Source == AbortSource.ServiceUser
                            || (abort.Source == AbortSource.ServiceProvider && Enum.IsDefined(abort.Reason));
                        if (!valid) throw new FuzzOracleException($"the acceptor sent an A-ABORT with source {(byte)abort.Source} and reason {(byte)abort.Reason}");
                        final = "A-ABORT";
                        break;
                    default:
                        throw new FuzzOracleException($"the acceptor sent {what} as PDU {i + 1}{(accepted is null ? " before any A-ASSOCIATE-AC" : "")}");
                }
            }
            catch (PduFormatException e)
            {
                throw new FuzzOracleException($"the acceptor sent a {what} its own decoder refuses", e);
            }
        }
    }

    private static void CheckSentPData(ReadOnlySpan<byte> body, HashSet<byte> accepted, List<byte> command)
    {
        if (body.IsEmpty) throw new FuzzOracleException("the acceptor sent an empty P-DATA-TF");
        while (!body.IsEmpty)
        {
            if (body.Length < 6) throw new FuzzOracleException("the acceptor sent a P-DATA-TF ending inside a PDV item header");
            uint itemLength = BinaryPrimitives.ReadUInt32BigEndian(body);
            if (itemLength < 2 || itemLength - 2 > (uint)(body.Length - 6)) throw new FuzzOracleException($"the acceptor sent a PDV item of length {itemLength} in {body.Length} bytes");
            byte context = body[4], control = body[5];
            if (!accepted.Contains(context)) throw new FuzzOracleException($"the acceptor sent a PDV on presentation context {context}, which it did not accept");
            if ((control & 1) != 0)
            {
                command.AddRange(body.Slice(6, (int)itemLength - 2));
                if ((control & 2) != 0)
                {
                    DimseCommand sentCommand;
                    try
                    {
                        sentCommand = CommandSetCodec.Decode([.. command]);
                    }
                    catch (DicomReadException e)
                    {
                        throw new FuzzOracleException("the acceptor sent a command set that does not decode", e);
                    }
                    if (sentCommand.IsRequest) throw new FuzzOracleException($"the acceptor sent a request ({sentCommand}) though it has nothing to ask");
                    command.Clear();
                }
            }
            body = body[(4 + (int)itemLength)..];
        }
    }

    /// <summary>Turns one calling AE title away and answers user identities with a server response, so that both
    /// branches of <see cref="AssociationPolicy"/> run.</summary>
    private sealed class FuzzAuthorizer : IAssociationAuthorizer
    {
        public ValueTask<AssociationAuthorization> AuthorizeAsync(AssociationRequestContext context, CancellationToken cancellationToken) =>
            ValueTask.FromResult(context.Request.CallingAeTitle == RejectedCallingAeTitle
                ? AssociationAuthorization.Rejected(AssociateReject.CallingAeTitleNotRecognized)
                : new AssociationAuthorization(null, context.Request.UserInformation.UserIdentity is null ? default : "fuzz-server-response"u8.ToArray()));
    }

    /// <summary>Reads the data set in reads of varying size, then stores nothing.</summary>
    private sealed class ReadingStoreHandler : IStoreHandler
    {
        public async ValueTask<StoreResult> StoreAsync(StoreRequest request, Stream dataSet, CancellationToken cancellationToken)
        {
            var buffer = new byte[509];
            long total = 0;
            int size = 1, n;
            while ((n = await dataSet.ReadAsync(buffer.AsMemory(0, size), cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += n;
                size = size * 3 % buffer.Length + 1;
            }
            return total == 0 ? new StoreResult(DimseStatus.CannotUnderstand, "empty data set") : DimseStatus.Success;
        }
    }
}

/// <summary>The peer's side of a connection: hands out the input in chunks, records what is written, and behaves as a
/// closed network stream once disposed (the association disposes it when it closes the transport).</summary>
internal sealed class PeerStream(ReadOnlyMemory<byte> input, int chunk) : Stream
{
    private readonly MemoryStream _written = new();
    private int _position;
    private bool _disposed;

    public byte[] Written => _written.ToArray();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int n = Math.Min(Math.Min(buffer.Length, chunk), input.Length - _position);
        input.Span.Slice(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _written.Write(buffer);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override void Flush() { }
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        base.Dispose(disposing);
    }
}

/// <summary>Formats every message (as a logging provider would) and keeps the first Error-level entry: the
/// association's and the services' last-resort handlers log unexpected exceptions at that level.</summary>
internal sealed class RecordingLogger : ILogger
{
    /// <summary>The first Error-level entry: its event name (the same for every association, so that crashes group
    /// by it) and exception.</summary>
    public (string Event, Exception? Exception)? Failure { get; private set; }

    public List<string> Lines { get; } = [];

    /// <summary>Keep every line (for --dump); otherwise only formatted and dropped.</summary>
    public bool KeepLines { get; set; }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        string message = formatter(state, exception);
        if (KeepLines) Lines.Add($"{logLevel}: {message}{(exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})")}");
        if (logLevel >= LogLevel.Error && Failure is null) Failure = (eventId.Name ?? eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), exception);
    }
}
