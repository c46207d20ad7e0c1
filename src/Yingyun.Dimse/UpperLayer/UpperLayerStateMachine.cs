namespace Yingyun.Dimse;

/// <summary>States of the DICOM upper layer protocol machine (PS3.8 §9.2.1, Table 9-1).</summary>
public enum UpperLayerState
{
    /// <summary>Idle.</summary>
    Sta1 = 1,
    /// <summary>Transport connection open (awaiting A-ASSOCIATE-RQ PDU).</summary>
    Sta2,
    /// <summary>Awaiting local A-ASSOCIATE response primitive.</summary>
    Sta3,
    /// <summary>Awaiting transport connection opening to complete.</summary>
    Sta4,
    /// <summary>Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU.</summary>
    Sta5,
    /// <summary>Association established and ready for data transfer.</summary>
    Sta6,
    /// <summary>Awaiting A-RELEASE-RP PDU.</summary>
    Sta7,
    /// <summary>Awaiting local A-RELEASE response primitive.</summary>
    Sta8,
    /// <summary>Release collision requestor side; awaiting A-RELEASE response primitive.</summary>
    Sta9,
    /// <summary>Release collision acceptor side; awaiting A-RELEASE-RP PDU.</summary>
    Sta10,
    /// <summary>Release collision requestor side; awaiting A-RELEASE-RP PDU.</summary>
    Sta11,
    /// <summary>Release collision acceptor side; awaiting A-RELEASE response primitive.</summary>
    Sta12,
    /// <summary>Awaiting transport connection close indication (association no longer exists).</summary>
    Sta13,
}

/// <summary>Events of the state machine (PS3.8 §9.2.2, Table 9-2).</summary>
public enum UpperLayerEvent
{
    /// <summary>A-ASSOCIATE request (local user).</summary>
    Evt1 = 1,
    /// <summary>Transport connect confirmation (local transport service).</summary>
    Evt2,
    /// <summary>A-ASSOCIATE-AC PDU received.</summary>
    Evt3,
    /// <summary>A-ASSOCIATE-RJ PDU received.</summary>
    Evt4,
    /// <summary>Transport connection indication (local transport service).</summary>
    Evt5,
    /// <summary>A-ASSOCIATE-RQ PDU received.</summary>
    Evt6,
    /// <summary>A-ASSOCIATE response primitive (accept).</summary>
    Evt7,
    /// <summary>A-ASSOCIATE response primitive (reject).</summary>
    Evt8,
    /// <summary>P-DATA request primitive.</summary>
    Evt9,
    /// <summary>P-DATA-TF PDU received.</summary>
    Evt10,
    /// <summary>A-RELEASE request primitive.</summary>
    Evt11,
    /// <summary>A-RELEASE-RQ PDU received.</summary>
    Evt12,
    /// <summary>A-RELEASE-RP PDU received.</summary>
    Evt13,
    /// <summary>A-RELEASE response primitive.</summary>
    Evt14,
    /// <summary>A-ABORT request primitive.</summary>
    Evt15,
    /// <summary>A-ABORT PDU received.</summary>
    Evt16,
    /// <summary>Transport connection closed indication.</summary>
    Evt17,
    /// <summary>ARTIM timer expired.</summary>
    Evt18,
    /// <summary>Unrecognized or invalid PDU received.</summary>
    Evt19,
}

/// <summary>Actions of the state machine (PS3.8 §9.2.3, Tables 9-6 to 9-9).</summary>
public enum UpperLayerAction
{
    /// <summary>No transition defined: the event is not allowed in this state (a local primitive the user must not issue now).</summary>
    None = 0,
    /// <summary>Issue TRANSPORT CONNECT request primitive → Sta4.</summary>
    AE1,
    /// <summary>Send A-ASSOCIATE-RQ PDU → Sta5.</summary>
    AE2,
    /// <summary>Issue A-ASSOCIATE confirmation (accept) primitive → Sta6.</summary>
    AE3,
    /// <summary>Issue A-ASSOCIATE confirmation (reject) primitive and close transport connection → Sta1.</summary>
    AE4,
    /// <summary>Issue transport connection response primitive; start ARTIM timer → Sta2.</summary>
    AE5,
    /// <summary>Stop ARTIM timer; if the A-ASSOCIATE-RQ is acceptable by the service provider issue A-ASSOCIATE indication
    /// → Sta3, otherwise send A-ASSOCIATE-RJ and start ARTIM → Sta13.</summary>
    AE6,
    /// <summary>Send A-ASSOCIATE-AC PDU → Sta6.</summary>
    AE7,
    /// <summary>Send A-ASSOCIATE-RJ PDU and start ARTIM timer → Sta13.</summary>
    AE8,
    /// <summary>Send P-DATA-TF PDU → Sta6.</summary>
    DT1,
    /// <summary>Send P-DATA indication primitive → Sta6.</summary>
    DT2,
    /// <summary>Send A-RELEASE-RQ PDU → Sta7.</summary>
    AR1,
    /// <summary>Issue A-RELEASE indication primitive → Sta8.</summary>
    AR2,
    /// <summary>Issue A-RELEASE confirmation primitive and close transport connection → Sta1.</summary>
    AR3,
    /// <summary>Send A-RELEASE-RP PDU and start ARTIM timer → Sta13.</summary>
    AR4,
    /// <summary>Stop ARTIM timer → Sta1.</summary>
    AR5,
    /// <summary>Issue P-DATA indication → Sta7.</summary>
    AR6,
    /// <summary>Send P-DATA-TF PDU → Sta8.</summary>
    AR7,
    /// <summary>Issue A-RELEASE indication (release collision) → Sta9 if association-requestor, else Sta10.</summary>
    AR8,
    /// <summary>Send A-RELEASE-RP PDU → Sta11.</summary>
    AR9,
    /// <summary>Issue A-RELEASE confirmation primitive → Sta12.</summary>
    AR10,
    /// <summary>Send A-ABORT PDU and start (or restart) ARTIM timer → Sta13.</summary>
    AA1,
    /// <summary>Stop ARTIM timer if running; close transport connection → Sta1.</summary>
    AA2,
    /// <summary>Issue A-ABORT (or A-P-ABORT) indication and close transport connection → Sta1.</summary>
    AA3,
    /// <summary>Issue A-P-ABORT indication primitive → Sta1.</summary>
    AA4,
    /// <summary>Stop ARTIM timer → Sta1.</summary>
    AA5,
    /// <summary>Ignore PDU → Sta13.</summary>
    AA6,
    /// <summary>Send A-ABORT PDU → Sta13.</summary>
    AA7,
    /// <summary>Send A-ABORT PDU (service-provider source), issue A-P-ABORT indication, start ARTIM timer → Sta13.</summary>
    AA8,
}

/// <summary>The upper layer protocol machine of PS3.8 §9.2 as a pure transition function over Table 9-10. It does
/// no I/O: the association runs the returned action. Keeping the table separate makes every transition testable
/// and keeps the networking code from inventing its own rules.</summary>
public sealed class UpperLayerStateMachine
{
    private static readonly UpperLayerAction[,] Table = BuildTable();

    public UpperLayerStateMachine(bool isRequestor) => IsRequestor = isRequestor;

    /// <summary>Whether the local side is the association-requestor (decides AR-8's next state).</summary>
    public bool IsRequestor { get; }

    public UpperLayerState State { get; private set; } = UpperLayerState.Sta1;

    /// <summary>The action Table 9-10 gives for <paramref name="evt"/> in <paramref name="state"/>; <see cref="UpperLayerAction.None"/>
    /// when the cell is empty.</summary>
    public static UpperLayerAction Lookup(UpperLayerState state, UpperLayerEvent evt) => Table[(int)evt, (int)state];

    /// <summary>Applies <paramref name="evt"/>: returns the action to perform and moves to its next state. An empty
    /// cell leaves the state unchanged and returns <see cref="UpperLayerAction.None"/>.</summary>
    public UpperLayerAction Fire(UpperLayerEvent evt)
    {
        var action = Lookup(State, evt);
        if (action != UpperLayerAction.None) State = NextState(action);
        return action;
    }

    /// <summary>AE-6's second branch: the provider found the A-ASSOCIATE-RQ unacceptable and sent A-ASSOCIATE-RJ.</summary>
    public void RejectedByProvider()
    {
        if (State != UpperLayerState.Sta3) throw new InvalidOperationException($"AE-6 rejection from {State}");
        State = UpperLayerState.Sta13;
    }

    private UpperLayerState NextState(UpperLayerAction action) => action switch
    {
        UpperLayerAction.AE1 => UpperLayerState.Sta4,
        UpperLayerAction.AE2 => UpperLayerState.Sta5,
        UpperLayerAction.AE3 => UpperLayerState.Sta6,
        UpperLayerAction.AE4 => UpperLayerState.Sta1,
        UpperLayerAction.AE5 => UpperLayerState.Sta2,
        UpperLayerAction.AE6 => UpperLayerState.Sta3,
        UpperLayerAction.AE7 => UpperLayerState.Sta6,
        UpperLayerAction.AE8 => UpperLayerState.Sta13,
        UpperLayerAction.DT1 or UpperLayerAction.DT2 => UpperLayerState.Sta6,
        UpperLayerAction.AR1 => UpperLayerState.Sta7,
        UpperLayerAction.AR2 => UpperLayerState.Sta8,
        UpperLayerAction.AR3 => UpperLayerState.Sta1,
        UpperLayerAction.AR4 => UpperLayerState.Sta13,
        UpperLayerAction.AR5 => UpperLayerState.Sta1,
        UpperLayerAction.AR6 => UpperLayerState.Sta7,
        UpperLayerAction.AR7 => UpperLayerState.Sta8,
        UpperLayerAction.AR8 => IsRequestor ? UpperLayerState.Sta9 : UpperLayerState.Sta10,
        UpperLayerAction.AR9 => UpperLayerState.Sta11,
        UpperLayerAction.AR10 => UpperLayerState.Sta12,
        UpperLayerAction.AA1 => UpperLayerState.Sta13,
        UpperLayerAction.AA2 or UpperLayerAction.AA3 or UpperLayerAction.AA4 or UpperLayerAction.AA5 => UpperLayerState.Sta1,
        UpperLayerAction.AA6 or UpperLayerAction.AA7 or UpperLayerAction.AA8 => UpperLayerState.Sta13,
        _ => throw new ArgumentOutOfRangeException(nameof(action)),
    };

    private static UpperLayerAction[,] BuildTable()
    {
        var t = new UpperLayerAction[20, 14];
        void Row(UpperLayerEvent e, params (int State, UpperLayerAction Action)[] cells)
        {
            foreach (var (s, a) in cells) t[(int)e, s] = a;
        }
        const UpperLayerAction AA8 = UpperLayerAction.AA8;
        // PS3.8 Table 9-10, row by row. States 3, 5–12 share the "unexpected PDU" answer AA-8; Sta2 (no association
        // yet) answers with AA-1 and Sta13 (association gone) ignores or aborts.
        (int, UpperLayerAction)[] Unexpected(UpperLayerAction sta2, UpperLayerAction sta13, params (int, UpperLayerAction)[] overrides)
        {
            var cells = new Dictionary<int, UpperLayerAction> { [2] = sta2, [13] = sta13 };
            foreach (int s in new[] { 3, 5, 6, 7, 8, 9, 10, 11, 12 }) cells[s] = AA8;
            foreach (var (s, a) in overrides) cells[s] = a;
            return cells.Select(kv => (kv.Key, kv.Value)).ToArray();
        }

        Row(UpperLayerEvent.Evt1, (1, UpperLayerAction.AE1));
        Row(UpperLayerEvent.Evt2, (4, UpperLayerAction.AE2));
        Row(UpperLayerEvent.Evt3, Unexpected(UpperLayerAction.AA1, UpperLayerAction.AA6, (5, UpperLayerAction.AE3)));
        Row(UpperLayerEvent.Evt4, Unexpected(UpperLayerAction.AA1, UpperLayerAction.AA6, (5, UpperLayerAction.AE4)));
        Row(UpperLayerEvent.Evt5, (1, UpperLayerAction.AE5));
        Row(UpperLayerEvent.Evt6, Unexpected(UpperLayerAction.AE6, UpperLayerAction.AA7));
        Row(UpperLayerEvent.Evt7, (3, UpperLayerAction.AE7));
        Row(UpperLayerEvent.Evt8, (3, UpperLayerAction.AE8));
        Row(UpperLayerEvent.Evt9, (6, UpperLayerAction.DT1), (8, UpperLayerAction.AR7));
        Row(UpperLayerEvent.Evt10, Unexpected(UpperLayerAction.AA1, UpperLayerAction.AA6, (6, UpperLayerAction.DT2), (7, UpperLayerAction.AR6)));
        Row(UpperLayerEvent.Evt11, (6, UpperLayerAction.AR1));
        Row(UpperLayerEvent.Evt12, Unexpected(UpperLayerAction.AA1, UpperLayerAction.AA6, (6, UpperLayerAction.AR2), (7, UpperLayerAction.AR8)));
        Row(UpperLayerEvent.Evt13, Unexpected(UpperLayerAction.AA1, UpperLayerAction.AA6, (7, UpperLayerAction.AR3), (10, UpperLayerAction.AR10), (11, UpperLayerAction.AR3)));
        Row(UpperLayerEvent.Evt14, (8, UpperLayerAction.AR4), (9, UpperLayerAction.AR9), (12, UpperLayerAction.AR4));
        Row(UpperLayerEvent.Evt15, (3, UpperLayerAction.AA1), (4, UpperLayerAction.AA2), (5, UpperLayerAction.AA1), (6, UpperLayerAction.AA1),
            (7, UpperLayerAction.AA1), (8, UpperLayerAction.AA1), (9, UpperLayerAction.AA1), (10, UpperLayerAction.AA1), (11, UpperLayerAction.AA1),
            (12, UpperLayerAction.AA1));
        Row(UpperLayerEvent.Evt16, (2, UpperLayerAction.AA2), (3, UpperLayerAction.AA3), (5, UpperLayerAction.AA3), (6, UpperLayerAction.AA3),
            (7, UpperLayerAction.AA3), (8, UpperLayerAction.AA3), (9, UpperLayerAction.AA3), (10, UpperLayerAction.AA3), (11, UpperLayerAction.AA3),
            (12, UpperLayerAction.AA3), (13, UpperLayerAction.AA2));
        Row(UpperLayerEvent.Evt17, (2, UpperLayerAction.AA5), (3, UpperLayerAction.AA4), (4, UpperLayerAction.AA4), (5, UpperLayerAction.AA4),
            (6, UpperLayerAction.AA4), (7, UpperLayerAction.AA4), (8, UpperLayerAction.AA4), (9, UpperLayerAction.AA4), (10, UpperLayerAction.AA4),
            (11, UpperLayerAction.AA4), (12, UpperLayerAction.AA4), (13, UpperLayerAction.AR5));
        Row(UpperLayerEvent.Evt18, (2, UpperLayerAction.AA2), (13, UpperLayerAction.AA2));
        Row(UpperLayerEvent.Evt19, Unexpected(UpperLayerAction.AA1, UpperLayerAction.AA7));
        return t;
    }
}
