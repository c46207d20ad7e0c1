using System.CommandLine;
using Yingyun.Dicom;
using Yingyun.Dimse;

namespace Yingyun.Server.Cli;

/// <summary>`yingyun move`: C-MOVE (PS3.4 §C.4.2) like DCMTK's movescu: the peer sends the matching instances to
/// the AE named by --dest; sub-operation counts are shown as they arrive.</summary>
internal static class MoveCommand
{
    public static Command Create()
    {
        var peer = new PeerOptions();
        var keys = new QueryKeys();
        var destination = new Option<string>("--dest") { Description = "the move destination AE title", Required = true };
        var cmd = new Command("move", "Ask a peer to send matching instances to an AE with C-MOVE (like movescu)") { destination };
        peer.AddTo(cmd);
        keys.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            try
            {
                var identifier = keys.Build(parse);
                string model = keys.Model(parse, DicomUids.StudyRootQueryRetrieveInformationModelMove, DicomUids.PatientRootQueryRetrieveInformationModelMove);
                var association = await DicomClient.ConnectAsync(peer.ToClientOptions(parse), [model], ct).ConfigureAwait(false);
                await using (association.ConfigureAwait(false))
                {
                    var result = await association.MoveAsync(model, parse.GetValue(destination)!, identifier,
                        p => Console.Error.WriteLine($"C-MOVE pending: {p.NumberOfRemainingSuboperations} remaining, {p.NumberOfCompletedSuboperations} completed, {p.NumberOfFailedSuboperations} failed"),
                        ct).ConfigureAwait(false);
                    await association.ReleaseAsync(ct).ConfigureAwait(false);
                    Console.WriteLine($"C-MOVE to {parse.GetValue(destination)}: {result.Status}; {result.Completed} completed, {result.Warning} warning, {result.Failed} failed{(result.ErrorComment is { } c ? $" ({c})" : "")}");
                    foreach (var uid in result.FailedSopInstanceUids) Console.Error.WriteLine($"failed: {uid}");
                    return result.Status.IsSuccessOrWarning && result.Failed == 0 ? 0 : 1;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Console.Error.WriteLine($"yingyun move: {peer.Describe(parse)}: {ex.Message}");
                return 1;
            }
        });
        return cmd;
    }
}
