using Yingyun.Dicom;
using Yingyun.Dimse.Tests.Infrastructure;

namespace Yingyun.Dimse.Tests.Services;

/// <summary>Storage Commitment Push Model (PS3.4 Annex J), Yingyun SCU against Yingyun SCP: the report on the same
/// association, on a new one, the fallback from one to the other, and the refusals.</summary>
public class StorageCommitmentTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Answers from the server's own folder; knows the listener of "TESTSCU" when one is given.</summary>
    private sealed class Requestors : IStorageCommitmentRequestorResolver
    {
        public Dictionary<string, DicomNode> Nodes { get; } = new(StringComparer.Ordinal);

        public ValueTask<DicomNode?> ResolveAsync(StorageCommitmentRequest request, CancellationToken cancellationToken) =>
            ValueTask.FromResult(Nodes.GetValueOrDefault(request.CallingAeTitle));
    }

    private static TestServer StartScp(Requestors? requestors = null, StorageCommitmentReportDelivery delivery = StorageCommitmentReportDelivery.SameAssociationIfOpen)
    {
        var server = new TestServer(o =>
        {
            o.Services.StorageCommitmentRequestorResolver = requestors;
            o.Services.StorageCommitmentReportDelivery = delivery;
            o.Services.ReportAttempts = 1;
        });
        server.Options.Services.StorageCommitmentHandler = new FolderStorageCommitmentHandler(server.Store.Folder);
        return server;
    }

    /// <summary>Stores the named corpus files on <paramref name="server"/>; returns their references.</summary>
    private static async Task<List<SopReference>> StoreAsync(TestServer server, params string[] names)
    {
        var headers = new List<Part10Header>();
        foreach (var name in names) headers.Add(await Part10Header.ReadAsync(Corpus.File(name)));
        var builder = new AssociationRequestBuilder("TESTSCU", "YINGYUN").AddStorageContexts(headers);
        await using var association = await DicomClient.ConnectAsync(server.Client(), builder.Build());
        foreach (var name in names) (await association.StoreFileAsync(Corpus.File(name))).IsSuccess.Should().BeTrue(name);
        await association.ReleaseAsync();
        return [.. headers.Select(h => new SopReference(h.SopClassUid, h.SopInstanceUid))];
    }

    private static DicomClientOptions WithReports(TestServer server, StorageCommitmentReports reports)
    {
        var options = server.Client();
        options.Services = new DimseServices { StorageCommitmentReportHandler = reports };
        return options;
    }

    [Fact]
    public async Task Report_on_the_same_association_names_every_instance_with_its_failure_reason()
    {
        await using var server = StartScp();
        var stored = await StoreAsync(server, "CT_small.dcm", "MR_small.dcm");
        var missing = new SopReference(DicomUids.CTImageStorage, "1.2.3.4.5.6.7.8.9");
        // Stored as CT, asked for as MR: class/instance conflict (PS3.3 §C.14.1.1).
        var conflict = stored[0] with { SopClassUid = DicomUids.MRImageStorage };
        var reports = new StorageCommitmentReports();
        await using var association = await DicomClient.ConnectAsync(WithReports(server, reports), [DicomUids.StorageCommitmentPushModel]);

        using var timeout = new CancellationTokenSource(Patience);
        var report = await association.CommitAsync(reports, [.. stored, missing], cancellationToken: timeout.Token);
        report.AssociationId.Should().Be(association.Id, "the SCP reports on the association of the request while it is open");
        report.Result.EventTypeId.Should().Be(StorageCommitment.EventTypeFailuresExist);
        report.Result.Committed.Should().BeEquivalentTo(stored);
        report.Result.Failed.Should().ContainSingle().Which.Should().Be(new FailedSopReference(missing.SopClassUid, missing.SopInstanceUid, StorageCommitmentFailureReason.NoSuchObjectInstance));

        var all = await association.CommitAsync(reports, stored, cancellationToken: timeout.Token);
        all.Result.EventTypeId.Should().Be(StorageCommitment.EventTypeSuccessful);
        all.Result.Committed.Should().BeEquivalentTo(stored);
        all.Result.Failed.Should().BeEmpty();

        var mismatch = await association.CommitAsync(reports, [conflict], cancellationToken: timeout.Token);
        mismatch.Result.Failed.Should().ContainSingle().Which.FailureReason.Should().Be(StorageCommitmentFailureReason.ClassInstanceConflict);
        mismatch.Result.Committed.Should().BeEmpty();
        await association.ReleaseAsync();
    }

    [Fact]
    public async Task Report_on_a_new_association_to_the_requestors_listener()
    {
        var requestors = new Requestors();
        await using var server = StartScp(requestors, StorageCommitmentReportDelivery.NewAssociation);
        var stored = await StoreAsync(server, "CT_small.dcm");
        var reports = new StorageCommitmentReports();
        // The SCU's listener: a DicomServer whose services take the reports (the SCP proposes the SCP role).
        await using var listener = new TestServer(o =>
        {
            o.AeTitle = "TESTSCU";
            o.Services.StorageCommitmentReportHandler = reports;
        });
        requestors.Nodes["TESTSCU"] = new DicomNode("TESTSCU", "127.0.0.1", listener.Port);

        await using var association = await DicomClient.ConnectAsync(server.Client(), [DicomUids.StorageCommitmentPushModel]);
        using var timeout = new CancellationTokenSource(Patience);
        var report = await association.CommitAsync(reports, stored, releaseAfterRequest: true, cancellationToken: timeout.Token);
        association.EndReason.Should().Be(AssociationEndReason.Released);
        report.AssociationId.Should().NotBe(association.Id);
        report.CallingAeTitle.Should().Be("YINGYUN", "the SCP opened the association");
        report.CalledAeTitle.Should().Be("TESTSCU");
        report.Result.Committed.Should().BeEquivalentTo(stored);
        report.Result.IsSuccess.Should().BeTrue();
    }

    [Fact]
    public async Task A_release_before_the_report_is_answered_moves_the_report_to_a_new_association()
    {
        var requestors = new Requestors();
        await using var server = StartScp(requestors);
        var stored = await StoreAsync(server, "MR_small.dcm");
        var reports = new StorageCommitmentReports();
        await using var listener = new TestServer(o =>
        {
            o.AeTitle = "TESTSCU";
            o.Services.StorageCommitmentReportHandler = reports;
        });
        requestors.Nodes["TESTSCU"] = new DicomNode("TESTSCU", "127.0.0.1", listener.Port);

        // A requestor that reads the N-EVENT-REPORT-RQ on its association and releases instead of answering: the SCP
        // must answer the release at once (not wait for a response that cannot come) and send the report again.
        var rq = new AssociateRequest { CallingAeTitle = "TESTSCU", CalledAeTitle = "YINGYUN" };
        rq.PresentationContexts.Add(new(1, DicomUids.StorageCommitmentPushModel, [DicomUids.ImplicitVRLittleEndian]));
        rq.UserInformation.MaximumLength = 16384;
        await using var peer = await RawPeer.AssociateAsync(server.Port, rq);
        string transactionUid = StorageCommitment.NewTransactionUid();
        var waiting = reports.Expect(transactionUid);
        var action = new DimseCommand
        {
            CommandField = DimseCommandField.NActionRequest,
            MessageId = 7,
            RequestedSopClassUid = DicomUids.StorageCommitmentPushModel,
            RequestedSopInstanceUid = DicomUids.StorageCommitmentPushModelInstance,
            ActionTypeId = StorageCommitment.ActionTypeRequest,
            HasDataSet = true,
        };
        await peer.SendAsync(RawPeer.PData(1, 0x03, CommandSetCodec.Encode(action)));
        var information = await QueryRetrieve.EncodeAsync(StorageCommitment.ToActionInformation(transactionUid, stored), DicomTransferSyntax.ImplicitVRLittleEndian);
        await peer.SendAsync(RawPeer.PData(1, 0x02, information));

        var actionResponse = CommandSetCodec.Decode((await peer.ExpectPduAsync(PduType.PData)).Pdvs().Single().Data);
        actionResponse.CommandField.Should().Be(DimseCommandField.NActionResponse);
        actionResponse.Status.Should().Be(DimseStatus.Success);
        actionResponse.AffectedSopInstanceUid.Should().Be(DicomUids.StorageCommitmentPushModelInstance);
        var eventCommand = CommandSetCodec.Decode((await peer.ExpectPduAsync(PduType.PData)).Pdvs().First().Data);
        eventCommand.CommandField.Should().Be(DimseCommandField.NEventReportRequest);
        eventCommand.EventTypeId.Should().Be(StorageCommitment.EventTypeSuccessful);

        await peer.SendAsync(PduEncoder.EncodeReleaseRequest());
        var pdus = await peer.ReadUntilClosedAsync();
        pdus.Select(p => p.Type).Should().Contain(PduType.ReleaseResponse).And.NotContain(PduType.Abort);

        var report = await waiting.WaitAsync(Patience);
        report.Result.TransactionUid.Should().Be(transactionUid);
        report.Result.Committed.Should().BeEquivalentTo(stored);
        report.CallingAeTitle.Should().Be("YINGYUN");
    }

    [Fact]
    public async Task Default_delivery_reaches_an_scu_that_releases_at_once()
    {
        var requestors = new Requestors();
        await using var server = StartScp(requestors);
        var stored = await StoreAsync(server, "CT_small.dcm");
        var reports = new StorageCommitmentReports();
        await using var listener = new TestServer(o =>
        {
            o.AeTitle = "TESTSCU";
            o.Services.StorageCommitmentReportHandler = reports;
        });
        requestors.Nodes["TESTSCU"] = new DicomNode("TESTSCU", "127.0.0.1", listener.Port);
        // The request's association has no report handler: whether the SCP's report reaches it before the release
        // (refused there) or after (it cannot go there), the listener is where it ends up.
        await using var association = await DicomClient.ConnectAsync(server.Client(), [DicomUids.StorageCommitmentPushModel]);
        using var timeout = new CancellationTokenSource(Patience);
        var report = await association.CommitAsync(reports, stored, releaseAfterRequest: true, cancellationToken: timeout.Token);
        report.AssociationId.Should().NotBe(association.Id);
        report.Result.Committed.Should().BeEquivalentTo(stored);
    }

    /// <summary>A handler held until the test lets it go, to keep a transaction active.</summary>
    private sealed class HeldHandler(IStorageCommitmentHandler inner) : IStorageCommitmentHandler
    {
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<StorageCommitmentResult> CommitAsync(StorageCommitmentRequest request, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            await Release.Task;
            return await inner.CommitAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task A_transaction_uid_already_in_use_fails_every_instance_with_0131H()
    {
        await using var server = StartScp();
        var stored = await StoreAsync(server, "CT_small.dcm");
        var held = new HeldHandler(server.Options.Services.StorageCommitmentHandler!);
        server.Options.Services.StorageCommitmentHandler = held;
        var reports = new StorageCommitmentReports();
        await using var first = await DicomClient.ConnectAsync(WithReports(server, reports), [DicomUids.StorageCommitmentPushModel]);
        await using var second = await DicomClient.ConnectAsync(WithReports(server, reports), [DicomUids.StorageCommitmentPushModel]);
        string uid = StorageCommitment.NewTransactionUid();
        var report = reports.Expect(uid);
        (await first.RequestStorageCommitmentAsync(uid, stored)).Command.Status.Should().Be(DimseStatus.Success);
        await held.Entered.Task.WaitAsync(Patience);

        // Same Transaction UID while the first is not reported: the duplicate's report fails everything (PS3.3 §C.14.1.1).
        (await second.RequestStorageCommitmentAsync(uid, stored)).Command.Status.Should().Be(DimseStatus.Success);
        var duplicate = await report.WaitAsync(Patience);
        duplicate.AssociationId.Should().Be(second.Id);
        duplicate.Result.Failed.Should().ContainSingle().Which.FailureReason.Should().Be(StorageCommitmentFailureReason.DuplicateTransactionUid);

        reports.Forget(uid);
        var original = reports.Expect(uid);
        held.Release.SetResult();
        var firstReport = await original.WaitAsync(Patience);
        firstReport.AssociationId.Should().Be(first.Id);
        firstReport.Result.IsSuccess.Should().BeTrue();
        await first.ReleaseAsync();
        await second.ReleaseAsync();
    }

    /// <summary>A handler that waits for its token: only a cancelled stop ends it.</summary>
    private sealed class EndlessHandler : IStorageCommitmentHandler
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<StorageCommitmentResult> CommitAsync(StorageCommitmentRequest request, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            finally
            {
                if (cancellationToken.IsCancellationRequested) Cancelled.TrySetResult();
            }
            throw new InvalidOperationException("unreachable");
        }
    }

    [Fact]
    public async Task Stopping_the_server_waits_for_reports_in_progress_and_disposing_it_cancels_them()
    {
        // Graceful stop: the report of a request already taken still goes out, after its association has ended.
        var requestors = new Requestors();
        var server = StartScp(requestors, StorageCommitmentReportDelivery.NewAssociation);
        var stored = await StoreAsync(server, "CT_small.dcm");
        var held = new HeldHandler(server.Options.Services.StorageCommitmentHandler!);
        server.Options.Services.StorageCommitmentHandler = held;
        var reports = new StorageCommitmentReports();
        await using var listener = new TestServer(o =>
        {
            o.AeTitle = "TESTSCU";
            o.Services.StorageCommitmentReportHandler = reports;
        });
        requestors.Nodes["TESTSCU"] = new DicomNode("TESTSCU", "127.0.0.1", listener.Port);
        string uid = StorageCommitment.NewTransactionUid();
        var report = reports.Expect(uid);
        await using (var association = await DicomClient.ConnectAsync(server.Client(), [DicomUids.StorageCommitmentPushModel]))
        {
            (await association.RequestStorageCommitmentAsync(uid, stored)).Command.Status.Should().Be(DimseStatus.Success);
            await association.ReleaseAsync();
        }
        await held.Entered.Task.WaitAsync(Patience);
        server.Options.Services.ReportsInProgress.Should().Be(1);
        var stop = server.Server.StopAsync();
        held.Release.SetResult();
        await stop.WaitAsync(Patience);
        report.IsCompletedSuccessfully.Should().BeTrue("the stop waits for the report, which reaches the listener before it ends");
        server.Options.Services.ReportsInProgress.Should().Be(0);
        await server.DisposeAsync();

        // Dispose: a report still being decided is cancelled, and the dispose does not wait for it to decide.
        await using var second = StartScp();
        var endless = new EndlessHandler();
        second.Options.Services.StorageCommitmentHandler = endless;
        await using (var association = await DicomClient.ConnectAsync(second.Client(), [DicomUids.StorageCommitmentPushModel]))
        {
            (await association.RequestStorageCommitmentAsync(StorageCommitment.NewTransactionUid(), stored)).Command.Status.Should().Be(DimseStatus.Success);
            await endless.Entered.Task.WaitAsync(Patience);
            await second.Server.DisposeAsync().AsTask().WaitAsync(Patience);
        }
        await endless.Cancelled.Task.WaitAsync(Patience);
        second.Options.Services.ReportsInProgress.Should().Be(0);
    }

    private static DimseCommand Action(ushort actionType = StorageCommitment.ActionTypeRequest, string instance = DicomUids.StorageCommitmentPushModelInstance) => new()
    {
        CommandField = DimseCommandField.NActionRequest,
        RequestedSopClassUid = DicomUids.StorageCommitmentPushModel,
        RequestedSopInstanceUid = instance,
        ActionTypeId = actionType,
        HasDataSet = true,
    };

    private static async Task<DimseCommand> SendActionAsync(DicomAssociation association, DimseCommand action, DicomDataset information)
    {
        var pc = association.FindPresentationContext(DicomUids.StorageCommitmentPushModel)!;
        var bytes = await QueryRetrieve.EncodeAsync(information, pc.TransferSyntax!);
        return (await association.SendSingleRequestAsync(pc.Id, action, new MemoryStream(bytes))).Command;
    }

    [Fact]
    public async Task Malformed_requests_get_the_n_action_statuses_of_ps3_7()
    {
        await using var server = StartScp();
        await using var association = await DicomClient.ConnectAsync(server.Client(), [DicomUids.StorageCommitmentPushModel]);
        var good = StorageCommitment.ToActionInformation(StorageCommitment.NewTransactionUid(), [new SopReference(DicomUids.CTImageStorage, "1.2.3")]);

        (await SendActionAsync(association, Action(actionType: 2), good)).Status.Should().Be(DimseStatus.NoSuchAction);
        (await SendActionAsync(association, Action(instance: "1.2.3.4"), good)).Status.Should().Be(DimseStatus.NoSuchSopInstance);
        var noTransaction = new DicomDataset();
        noTransaction.AddOrUpdate(good[DicomTags.ReferencedSOPSequence]!);
        var refused = await SendActionAsync(association, Action(), noTransaction);
        refused.Status.Should().Be(DimseStatus.InvalidArgumentValue);
        refused.ErrorComment.Should().Contain("Transaction UID");
        var noReferences = new DicomDataset();
        noReferences.AddOrUpdate(DicomTags.TransactionUID, StorageCommitment.NewTransactionUid());
        (await SendActionAsync(association, Action(), noReferences)).Status.Should().Be(DimseStatus.InvalidArgumentValue);
        // Still in step after the refusals.
        (await SendActionAsync(association, Action(), good)).Status.Should().Be(DimseStatus.Success);
        await association.ReleaseAsync();
    }

    [Fact]
    public async Task Without_a_handler_the_request_is_refused_and_an_unexpected_report_is_refused_too()
    {
        await using var server = new TestServer();
        var reports = new StorageCommitmentReports();
        await using var association = await DicomClient.ConnectAsync(WithReports(server, reports), [DicomUids.StorageCommitmentPushModel]);
        var response = await association.RequestStorageCommitmentAsync(StorageCommitment.NewTransactionUid(), [new SopReference(DicomUids.CTImageStorage, "1.2.3")]);
        response.Command.Status.Should().Be(DimseStatus.SopClassNotSupported);
        var act = () => association.CommitAsync(reports, [new SopReference(DicomUids.CTImageStorage, "1.2.3")]);
        (await act.Should().ThrowAsync<DimseStatusException>()).Which.Status.Should().Be(DimseStatus.SopClassNotSupported);
        await association.ReleaseAsync();
    }

    [Fact]
    public void Event_information_round_trips_and_is_checked()
    {
        var result = new StorageCommitmentResult("1.2.3",
            [new SopReference("1.2.840.10008.5.1.4.1.1.2", "1.2.3.1")],
            [new FailedSopReference("1.2.840.10008.5.1.4.1.1.4", "1.2.3.2", StorageCommitmentFailureReason.NoSuchObjectInstance)]) { RetrieveAeTitle = "ARCHIVE" };
        var ds = StorageCommitment.ToEventInformation(result);
        var (parsed, problem) = StorageCommitment.ParseEventInformation(ds, result.EventTypeId);
        problem.Should().BeNull();
        parsed!.Committed.Should().Equal(result.Committed);
        parsed.Failed.Should().Equal(result.Failed);
        parsed.RetrieveAeTitle.Should().Be("ARCHIVE");
        parsed.EventTypeId.Should().Be(StorageCommitment.EventTypeFailuresExist);
        // Event type 1 with failures, or 2 without, contradicts itself (PS3.4 §J.3.3.1.2).
        StorageCommitment.ParseEventInformation(ds, StorageCommitment.EventTypeSuccessful).Problem.Should().NotBeNull();
        var allFailed = StorageCommitment.ToEventInformation(result with { Committed = [] });
        allFailed.Contains(DicomTags.ReferencedSOPSequence).Should().BeFalse("a report that committed nothing leaves the Referenced SOP Sequence out");
        StorageCommitment.NewTransactionUid().Should().MatchRegex(@"^2\.25\.[1-9][0-9]*$").And.NotBe(StorageCommitment.NewTransactionUid());
    }
}
