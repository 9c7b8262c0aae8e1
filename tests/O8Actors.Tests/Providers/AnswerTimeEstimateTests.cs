using O8Actors.Providers;

namespace O8Actors.Tests.Providers;

/// <summary>
/// The estimate a provider's queue weighs a queued code's time left against: it knows nothing before the first answer,
/// then follows the endpoint's answer times with room for their spread, up after a slow answer and down again.
/// </summary>
public sealed class AnswerTimeEstimateTests
{
    private static readonly TimeSpan Ms100 = TimeSpan.FromMilliseconds(100);

    [Fact]
    public void Nothing_is_known_before_the_first_answer_and_the_first_answer_leaves_room_for_twice_its_spread()
    {
        var estimate = new AnswerTimeEstimate();
        Assert.Null(estimate.Likely);

        estimate.Record(Ms100);
        // Smoothed 100 ms, variation half of it: 100 + 4 × 50.
        Assert.Equal(TimeSpan.FromMilliseconds(300), estimate.Likely);
    }

    [Fact]
    public void Steady_answers_narrow_the_estimate_toward_their_time_and_a_slow_one_widens_it_at_once()
    {
        var estimate = new AnswerTimeEstimate();
        for (var i = 0; i < 40; i++) estimate.Record(Ms100);
        var steady = estimate.Likely!.Value;
        Assert.InRange(steady, Ms100, TimeSpan.FromMilliseconds(101));

        estimate.Record(TimeSpan.FromSeconds(2));
        // One 2 s answer: smoothed 100 + 1900/8, variation 1900/4, so 337.5 + 4 × 475 ms.
        Assert.InRange(estimate.Likely!.Value, TimeSpan.FromMilliseconds(2236.5), TimeSpan.FromMilliseconds(2238.5));
    }
}
