namespace O8Actors.Providers;

/// <summary>
/// How long one provider's token endpoint takes to answer, learnt from its recent answers the way TCP learns a
/// round trip (RFC 6298, section 2): a smoothed time and its variation, and as the likely answer time the smoothed time
/// plus four variations. Only answers count (tokens or an error response): a request that timed out or never reached
/// the endpoint says nothing about how fast the endpoint answers. Used by one provider actor, on its thread.
/// </summary>
internal sealed class AnswerTimeEstimate
{
    private TimeSpan? _smoothed;
    private TimeSpan _variation;

    /// <summary>
    /// The time within which the endpoint has been answering, or null before its first answer. Time left for a request
    /// that is shorter than this would most likely spend the code (or the refresh token) and still time out.
    /// </summary>
    public TimeSpan? Likely => _smoothed is { } smoothed ? smoothed + 4 * _variation : null;

    /// <summary>Learns from one answer that took <paramref name="answerTime"/> from the request's start.</summary>
    public void Record(TimeSpan answerTime)
    {
        if (answerTime < TimeSpan.Zero) answerTime = TimeSpan.Zero;
        if (_smoothed is not { } smoothed)
        {
            _smoothed = answerTime;
            _variation = answerTime / 2;
            return;
        }

        // The variation first, against the smoothed time before this answer moves it (RFC 6298, 2.3).
        _variation = 0.75 * _variation + 0.25 * (smoothed - answerTime).Duration();
        _smoothed = 0.875 * smoothed + 0.125 * answerTime;
    }
}
