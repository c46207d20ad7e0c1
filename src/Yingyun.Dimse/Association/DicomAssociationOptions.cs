namespace Yingyun.Dimse;

/// <summary>Limits and timers of one association, the same for the SCP host and the SCU client.</summary>
public sealed class DicomAssociationOptions
{
    /// <summary>Largest P-DATA-TF variable field we accept, advertised in the Maximum Length sub-item (PS3.8 §D.1).
    /// A larger P-DATA-TF from the peer is a protocol error. Received data is streamed PDV by PDV, so this does not
    /// size any buffer.</summary>
    public uint MaximumPduLength { get; set; } = 256 * 1024;

    /// <summary>Upper bound for the P-DATA-TF PDUs we send when the peer allows more (or advertises 0, "no limit"):
    /// this sizes the one pooled send buffer of an association.</summary>
    public uint MaximumSendPduLength { get; set; } = 256 * 1024;

    /// <summary>Largest A-ASSOCIATE-RQ/AC we read; checked against the PDU length before anything is buffered.</summary>
    public int MaximumAssociatePduLength { get; set; } = 128 * 1024;

    /// <summary>Largest command set we assemble (they are a few hundred bytes, PS3.7 §E.1).</summary>
    public int MaximumCommandLength { get; set; } = 64 * 1024;

    /// <summary>Largest data set buffered in memory: query identifiers, responses, N-ACTION lists. C-STORE data sets
    /// are never buffered: they stream to the store handler.</summary>
    public int MaximumBufferedDataSetLength { get; set; } = 16 * 1024 * 1024;

    /// <summary>Association request/reject/release timer (PS3.8 §9.1.5): how long we wait for an A-ASSOCIATE-RQ
    /// after a connection opens, for an A-ASSOCIATE-AC/RJ after we request, and for the peer to close the
    /// connection after a reject, release response or abort.</summary>
    public TimeSpan ArtimTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An established association with no traffic and no operation in progress for this long is aborted.
    /// Null: never.</summary>
    public TimeSpan? IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Read buffer of the transport pipe.</summary>
    public int ReceiveBufferSize { get; set; } = 64 * 1024;

    internal void Validate()
    {
        if (MaximumPduLength < 1024) throw new ArgumentOutOfRangeException(nameof(MaximumPduLength), "at least 1024 bytes");
        if (MaximumSendPduLength < 1024) throw new ArgumentOutOfRangeException(nameof(MaximumSendPduLength), "at least 1024 bytes");
        if (MaximumAssociatePduLength < 1024) throw new ArgumentOutOfRangeException(nameof(MaximumAssociatePduLength), "at least 1024 bytes");
        if (ArtimTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ArtimTimeout));
    }
}
