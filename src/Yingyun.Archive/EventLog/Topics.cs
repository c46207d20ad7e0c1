namespace Yingyun.Archive.EventLog;

/// <summary>
/// The archive's topics, named as in the seed's Kafka deployment so that the Doris routine load and
/// operators' tools see the same names on either stack (ARCHITECTURE.md §1, §6).
/// </summary>
public static class Topics
{
    public const string StorageQueue = "storage_queue";
    public const string LogQueue = "log_queue";
    public const string DicomStateQueue = "dicom_state_queue";
    public const string DicomImageQueue = "dicom_image_queue";
    public const string TranscodeQueue = "transcode_queue";
    public const string WebApiAccessQueue = "webapi_access_queue";

    public static IReadOnlyList<string> All { get; } =
        [StorageQueue, LogQueue, DicomStateQueue, DicomImageQueue, TranscodeQueue, WebApiAccessQueue];

    /// <summary>
    /// Kafka's rule for topic names (legal characters, at most 249), also used for group names:
    /// both become file names here, so the rule keeps them safe on disk as well.
    /// </summary>
    public static bool IsValidName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 249 || name is "." or "..")
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
