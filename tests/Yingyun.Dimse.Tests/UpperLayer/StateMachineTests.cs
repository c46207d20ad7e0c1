namespace Yingyun.Dimse.Tests.UpperLayer;

public class StateMachineTests
{
    private static UpperLayerStateMachine Run(bool requestor, params UpperLayerEvent[] events)
    {
        var m = new UpperLayerStateMachine(requestor);
        foreach (var e in events) m.Fire(e).Should().NotBe(UpperLayerAction.None, $"{e} is defined in {m.State}");
        return m;
    }

    [Fact]
    public void Requestor_establishes_transfers_and_releases()
    {
        var m = new UpperLayerStateMachine(isRequestor: true);
        m.Fire(UpperLayerEvent.Evt1).Should().Be(UpperLayerAction.AE1);
        m.Fire(UpperLayerEvent.Evt2).Should().Be(UpperLayerAction.AE2);
        m.State.Should().Be(UpperLayerState.Sta5);
        m.Fire(UpperLayerEvent.Evt3).Should().Be(UpperLayerAction.AE3);
        m.Fire(UpperLayerEvent.Evt9).Should().Be(UpperLayerAction.DT1);
        m.Fire(UpperLayerEvent.Evt10).Should().Be(UpperLayerAction.DT2);
        m.Fire(UpperLayerEvent.Evt11).Should().Be(UpperLayerAction.AR1);
        m.Fire(UpperLayerEvent.Evt10).Should().Be(UpperLayerAction.AR6, "responses still in flight are delivered while awaiting A-RELEASE-RP");
        m.Fire(UpperLayerEvent.Evt13).Should().Be(UpperLayerAction.AR3);
        m.State.Should().Be(UpperLayerState.Sta1);
    }

    [Fact]
    public void Acceptor_accepts_and_answers_release()
    {
        var m = new UpperLayerStateMachine(isRequestor: false);
        m.Fire(UpperLayerEvent.Evt5).Should().Be(UpperLayerAction.AE5);
        m.Fire(UpperLayerEvent.Evt6).Should().Be(UpperLayerAction.AE6);
        m.Fire(UpperLayerEvent.Evt7).Should().Be(UpperLayerAction.AE7);
        m.Fire(UpperLayerEvent.Evt12).Should().Be(UpperLayerAction.AR2);
        m.Fire(UpperLayerEvent.Evt9).Should().Be(UpperLayerAction.AR7);
        m.Fire(UpperLayerEvent.Evt14).Should().Be(UpperLayerAction.AR4);
        m.State.Should().Be(UpperLayerState.Sta13);
        m.Fire(UpperLayerEvent.Evt17).Should().Be(UpperLayerAction.AR5);
        m.State.Should().Be(UpperLayerState.Sta1);
    }

    [Fact]
    public void Release_collision_requestor_side()
    {
        var m = Run(true, UpperLayerEvent.Evt1, UpperLayerEvent.Evt2, UpperLayerEvent.Evt3, UpperLayerEvent.Evt11);
        m.Fire(UpperLayerEvent.Evt12).Should().Be(UpperLayerAction.AR8);
        m.State.Should().Be(UpperLayerState.Sta9);
        m.Fire(UpperLayerEvent.Evt14).Should().Be(UpperLayerAction.AR9);
        m.State.Should().Be(UpperLayerState.Sta11);
        m.Fire(UpperLayerEvent.Evt13).Should().Be(UpperLayerAction.AR3);
        m.State.Should().Be(UpperLayerState.Sta1);
    }

    [Fact]
    public void Release_collision_acceptor_side()
    {
        var m = Run(false, UpperLayerEvent.Evt5, UpperLayerEvent.Evt6, UpperLayerEvent.Evt7, UpperLayerEvent.Evt11);
        m.Fire(UpperLayerEvent.Evt12).Should().Be(UpperLayerAction.AR8);
        m.State.Should().Be(UpperLayerState.Sta10);
        m.Fire(UpperLayerEvent.Evt13).Should().Be(UpperLayerAction.AR10);
        m.State.Should().Be(UpperLayerState.Sta12);
        m.Fire(UpperLayerEvent.Evt14).Should().Be(UpperLayerAction.AR4);
        m.State.Should().Be(UpperLayerState.Sta13);
    }

    [Fact]
    public void Artim_expiry_closes_in_sta2_and_sta13()
    {
        var m = Run(false, UpperLayerEvent.Evt5);
        m.Fire(UpperLayerEvent.Evt18).Should().Be(UpperLayerAction.AA2);
        m.State.Should().Be(UpperLayerState.Sta1);
        m = Run(false, UpperLayerEvent.Evt5, UpperLayerEvent.Evt6, UpperLayerEvent.Evt8);
        m.State.Should().Be(UpperLayerState.Sta13);
        m.Fire(UpperLayerEvent.Evt18).Should().Be(UpperLayerAction.AA2);
    }

    [Theory]
    [InlineData(UpperLayerEvent.Evt3)]
    [InlineData(UpperLayerEvent.Evt4)]
    [InlineData(UpperLayerEvent.Evt10)]
    [InlineData(UpperLayerEvent.Evt12)]
    [InlineData(UpperLayerEvent.Evt13)]
    [InlineData(UpperLayerEvent.Evt19)]
    public void Anything_but_an_associate_request_on_a_fresh_connection_is_aborted(UpperLayerEvent e)
    {
        UpperLayerStateMachine.Lookup(UpperLayerState.Sta2, e).Should().Be(UpperLayerAction.AA1);
    }

    [Fact]
    public void Unexpected_pdus_during_an_association_get_a_provider_abort()
    {
        foreach (var state in new[] { 3, 5, 6, 7, 8, 9, 10, 11, 12 })
        {
            UpperLayerStateMachine.Lookup((UpperLayerState)state, UpperLayerEvent.Evt19).Should().Be(UpperLayerAction.AA8);
            UpperLayerStateMachine.Lookup((UpperLayerState)state, UpperLayerEvent.Evt6).Should().Be(UpperLayerAction.AA8);
            UpperLayerStateMachine.Lookup((UpperLayerState)state, UpperLayerEvent.Evt16).Should().Be(UpperLayerAction.AA3);
            UpperLayerStateMachine.Lookup((UpperLayerState)state, UpperLayerEvent.Evt17).Should().Be(UpperLayerAction.AA4);
            UpperLayerStateMachine.Lookup((UpperLayerState)state, UpperLayerEvent.Evt15).Should().Be(UpperLayerAction.AA1);
        }
        UpperLayerStateMachine.Lookup(UpperLayerState.Sta13, UpperLayerEvent.Evt10).Should().Be(UpperLayerAction.AA6);
        UpperLayerStateMachine.Lookup(UpperLayerState.Sta13, UpperLayerEvent.Evt6).Should().Be(UpperLayerAction.AA7);
        UpperLayerStateMachine.Lookup(UpperLayerState.Sta13, UpperLayerEvent.Evt19).Should().Be(UpperLayerAction.AA7);
    }

    [Fact]
    public void Local_primitives_outside_their_states_are_refused()
    {
        var m = Run(false, UpperLayerEvent.Evt5);
        m.Fire(UpperLayerEvent.Evt9).Should().Be(UpperLayerAction.None);
        m.State.Should().Be(UpperLayerState.Sta2);
        UpperLayerStateMachine.Lookup(UpperLayerState.Sta7, UpperLayerEvent.Evt9).Should().Be(UpperLayerAction.None);
        UpperLayerStateMachine.Lookup(UpperLayerState.Sta7, UpperLayerEvent.Evt11).Should().Be(UpperLayerAction.None);
    }
}
