using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Microsoft.Extensions.Logging;
using O8Actors.Certificates;
using O8Actors.Configuration;

namespace O8Actors.Callback;

/// <summary>
/// Keeps the running listener's certificate current, so a server that runs for months never serves an expired one and
/// takes a pair the user replaced without a restart. Each check reads the certificate files; when they changed, their
/// pair is served from the next handshake on (once it passes the start's checks). When the served certificate is within
/// <see cref="CertificateProvider.ExpiryWarning"/> of its end and mkcert's CA issued it, it is remade where the start
/// would make a missing one; a certificate from any other CA is its owner's to renew, so only its files are followed.
/// </summary>
/// <remarks>
/// Owned by the <see cref="CallbackServerActor"/>: its state changes only in <see cref="Apply"/>, on the actor's thread;
/// <see cref="Begin"/> hands a snapshot of it to a check that runs off that thread (file reads, mkcert).
/// </remarks>
internal sealed class CertificateWatch
{
    /// <summary>How often the files are read: a user who replaced them waits at most this long.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    /// <summary>How long after a renewal that did not happen (not allowed, mkcert failed) the next one is tried.</summary>
    public static readonly TimeSpan RenewalRetry = TimeSpan.FromHours(1);

    /// <summary>
    /// How long one check may run (file reads, mkcert) before it is cancelled and the next tick checks again: mkcert
    /// makes a certificate in well under a second, so this is only for one that hangs, which otherwise kept every later
    /// check from running for the listener's life.
    /// </summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromMinutes(2);

    private readonly CertificateProvider _provider;
    private readonly CertificateOptions _options;
    private readonly string _host;
    private readonly Microsoft.Extensions.Logging.ILogger? _providerLog;
    private readonly ServedCertificate _served;
    // Fingerprints (CertificateProvider.Fingerprint) of the files behind the served certificate, and of files last
    // reported unusable: either is not read again until the files change.
    private string _filesServed;
    private string? _filesRefused;
    // The served certificate's thumbprint, and whether it had ended, when its renewal was last reported as not done.
    private string? _notRenewedReported;
    private DateTimeOffset _renewalFrom = DateTimeOffset.MinValue;
    // Check numbers are unique in the process, not per watch: a watch made for a fresh bind after a while-needed release
    // must never take a result of the watch before it (a check still running across the release) as its own.
    private static int s_checks;
    // The check running (its number and what ends it: its timeout, or the listener's end); null when none is.
    private int _checks;
    private CancellationTokenSource? _running;

    /// <summary>Watches the files behind <paramref name="served"/>, whose fingerprint was <paramref name="files"/> before it was loaded.</summary>
    public CertificateWatch(CertificateProvider provider, O8Options options, ServedCertificate served, string files,
        ILoggerFactory? loggerFactory)
    {
        _provider = provider;
        _options = options.Certificates;
        _host = options.Listener.Host;
        _providerLog = loggerFactory?.CreateLogger(typeof(CertificateProvider).FullName!);
        _served = served;
        _filesServed = files;
    }

    /// <summary>
    /// Starts a check unless one is running; its result (<see cref="CertificateChecked.Check"/> is
    /// <see cref="Running"/>) goes to <see cref="Apply"/>, and <see cref="TimedOut"/> ends it after <see cref="CheckTimeout"/>.
    /// </summary>
    /// <param name="now">The actor system's clock (virtual in tests), which spaces renewal attempts.</param>
    /// <param name="lifetime">Ends a running mkcert when the listener stops; a certificate the check made by then is disposed.</param>
    public Task<CertificateChecked>? Begin(DateTimeOffset now, CancellationToken lifetime)
    {
        if (_running is not null) return null;
        var check = _checks = Interlocked.Increment(ref s_checks);
        // The actor's handle is not linked to the lifetime: a timed-out check is given up without being disposed (it may
        // still be running), and a linked source would stay registered on the listener's lifetime until disposed.
        var running = _running = new CancellationTokenSource();
        var snapshot = new Snapshot(_served.Certificate, _filesServed, _filesRefused, now >= _renewalFrom);
        return RunAsync(check, snapshot, running.Token, lifetime);
    }

    /// <summary>The number of the check running, or of the last one.</summary>
    public int Running => _checks;

    /// <summary>
    /// The listener stops serving this watch's certificate (a while-needed release): a check still running is cancelled
    /// (mkcert is killed, a certificate it made is disposed by the check), and its result is taken by nobody.
    /// </summary>
    public void GiveUp()
    {
        if (_running is not { } running) return;
        // Cancelled, not disposed: the check still holds its token until it sees the cancellation.
        _running = null;
        running.Cancel();
    }

    /// <summary>
    /// Check <paramref name="check"/> passed <see cref="CheckTimeout"/>: cancelled (mkcert is killed), reported, and the
    /// next tick checks again. A result it still sends is not taken.
    /// </summary>
    public void TimedOut(int check, ILoggingAdapter log)
    {
        if (check != _checks || _running is not { } running) return;
        // Cancelled, not disposed: the check still holds its token until it sees the cancellation.
        _running = null;
        running.Cancel();
        log.Warning("The listener certificate check did not finish within {0} s (mkcert did not answer?); it was cancelled, the listener keeps " +
            "its certificate and checks again in {1} s", CheckTimeout.TotalSeconds, Interval.TotalSeconds);
    }

    /// <summary>
    /// Runs one check off the actor's thread. Its result carries its number; one made when its token ended (timed out, or
    /// the listener stopped and nobody takes it) is disposed here, as its sender's mailbox may be a stopped actor's.
    /// </summary>
    private async Task<CertificateChecked> RunAsync(int check, Snapshot snapshot, CancellationToken givenUp, CancellationToken lifetime)
    {
        // The check owns the source that joins both ends, so it is disposed (and unregistered) however the check ends.
        using var either = CancellationTokenSource.CreateLinkedTokenSource(givenUp, lifetime);
        var ct = either.Token;
        CertificateChecked found;
        try
        {
            found = await Task.Run(() => CheckAsync(snapshot, ct), ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return new CertificateChecked(snapshot.FilesServed) { Check = check, Cancelled = true };
        }

        if (!ct.IsCancellationRequested) return found with { Check = check };
        found.Discard();
        return new CertificateChecked(snapshot.FilesServed) { Check = check, Cancelled = true };
    }

    /// <summary>Takes what a check found: serves a new certificate, and logs what the user should know, once each.</summary>
    public void Apply(CertificateChecked found, DateTimeOffset now, ILoggingAdapter log)
    {
        if (found.Check != _checks || _running is not { } running)
        {
            // A check given up (timed out): its certificate, if any, is served by nobody.
            found.Discard();
            return;
        }

        _running = null;
        running.Dispose();
        if (found.Cancelled) return;
        if (found.RenewalTried) _renewalFrom = now + RenewalRetry;
        if (found.Failure is { } failure)
        {
            log.Warning("The listener certificate check failed ({0}: {1}); the listener keeps its certificate and checks again in {2} s",
                failure.GetType().Name, failure.Message, Interval.TotalSeconds);
            return;
        }

        if (found.Next is { } next)
        {
            _served.Replace(next);
            _filesServed = found.Files;
            _filesRefused = null;
            var certificate = next.Certificate;
            log.Info("The callback listener now serves the certificate {0} (thumbprint {1}, valid until {2}) to new connections: {3}",
                certificate.Subject, certificate.Thumbprint, CertificateProvider.Ends(certificate),
                found.Renewed ? "mkcert remade it before the previous one ended" : $"its files changed ('{CertificateProvider.CertificatePath(_options)}')");
            return;
        }

        if (found.FilesAccepted) _filesServed = found.Files;
        if (found.FilesProblem is { } problem && found.Files != _filesRefused)
        {
            _filesRefused = found.Files;
            log.Warning("The listener certificate files ('{0}') changed but cannot be used: {1}. The listener keeps serving " +
                "{2} (valid until {3}) and takes the files once they change again. To remake them: {4}",
                CertificateProvider.CertificatePath(_options), problem, _served.Certificate.Thumbprint,
                CertificateProvider.Ends(_served.Certificate), CertificateProvider.CreateCommand(_options));
        }

        var current = _served.Certificate;
        if (found.NotRenewed is { } whyNot)
        {
            var expired = _provider.HasExpired(current);
            var reported = $"{current.Thumbprint}/{expired}";
            if (reported != _notRenewedReported)
            {
                _notRenewedReported = reported;
                var ends = $"{(expired ? "expired on" : "expires on")} {CertificateProvider.Ends(current)}";
                log.Warning("The listener certificate '{0}' (thumbprint {1}) {2} and was not remade: {3}. Browsers refuse it " +
                    "after that; replace its files and the running listener takes them within {4} s: {5}",
                    CertificateProvider.CertificatePath(_options), current.Thumbprint, ends, whyNot, Interval.TotalSeconds,
                    CertificateProvider.CreateCommand(_options));
            }
        }

        // One line per check, for "why was my new pair not taken?"; Debug, as it comes every minute.
        log.Debug("Listener certificate checked: serving {0} (valid until {1}); files {2}; {3}", current.Thumbprint,
            CertificateProvider.Ends(current),
            found.FilesProblem is not null ? "changed and refused" : found.FilesAccepted ? "changed, same certificate" : "unchanged",
            !found.Due ? "not due for renewal" : found.RenewalTried ? $"renewal tried: {found.NotRenewed}" : $"next renewal attempt at {_renewalFrom:u}");
    }

    /// <summary>What the check may look at: never the watch itself, which only the actor touches.</summary>
    private sealed record Snapshot(X509Certificate2 Served, string FilesServed, string? FilesRefused, bool MayRenew);

    private async Task<CertificateChecked> CheckAsync(Snapshot snapshot, CancellationToken ct)
    {
        try
        {
            var files = CertificateProvider.Fingerprint(_options, _host);
            var accepted = false;
            if (files != snapshot.FilesServed && files != snapshot.FilesRefused)
            {
                var (certificate, problem) = _provider.Reload(_options, _host);
                if (certificate is null) return new CertificateChecked(files) { FilesProblem = problem };
                if (certificate.Thumbprint != snapshot.Served.Thumbprint) return Serve(files, certificate, renewed: false);
                // The same certificate in new bytes (or files made as the listener started): nothing to swap.
                certificate.Dispose();
                accepted = true;
            }

            var due = _provider.IsDue(snapshot.Served);
            if (!due || !snapshot.MayRenew) return new CertificateChecked(files) { FilesAccepted = accepted, Due = due };
            var tried = new CertificateChecked(files) { FilesAccepted = accepted, Due = true, RenewalTried = true };
            try
            {
                var (renewed, whyNot) = await _provider.RenewAsync(_options, _host, snapshot.Served, _providerLog, ct).ConfigureAwait(false);
                return renewed is null
                    ? tried with { NotRenewed = whyNot }
                    : Serve(CertificateProvider.Fingerprint(_options, _host), renewed, renewed: true) with { Due = true, RenewalTried = true };
            }
            catch (OAuthFlowException ex)
            {
                return tried with { NotRenewed = ex.Message };
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new CertificateChecked(snapshot.FilesServed) { Failure = ex };
        }
    }

    private static CertificateChecked Serve(string files, X509Certificate2 certificate, bool renewed)
    {
        try
        {
            return new CertificateChecked(files) { Next = ServedCertificate.Prepare(certificate, owned: true), Renewed = renewed };
        }
        catch (InvalidOperationException ex)
        {
            certificate.Dispose();
            return new CertificateChecked(files) { FilesProblem = ex.Message };
        }
    }
}

/// <summary>What one <see cref="CertificateWatch"/> check found.</summary>
/// <param name="Files">The files' fingerprint as the check read them.</param>
internal sealed record CertificateChecked(string Files)
{
    /// <summary>The check's number (<see cref="CertificateWatch.Running"/>): a result of an earlier check is not taken.</summary>
    public int Check { get; init; }

    /// <summary>The check was cancelled (timed out, or the listener stopped): it found nothing, and made nothing that is still open.</summary>
    public bool Cancelled { get; init; }

    /// <summary>A certificate to serve from now on.</summary>
    public ServedCertificate.Prepared? Next { get; init; }

    /// <summary>Whether <see cref="Next"/> was remade with mkcert because the served one was near its end (else its files changed).</summary>
    public bool Renewed { get; init; }

    /// <summary>The files changed and hold the served certificate still.</summary>
    public bool FilesAccepted { get; init; }

    /// <summary>The files changed and cannot be used: why.</summary>
    public string? FilesProblem { get; init; }

    /// <summary>Whether the served certificate was within <see cref="CertificateProvider.ExpiryWarning"/> of its end.</summary>
    public bool Due { get; init; }

    /// <summary>Whether a renewal was tried (done or not).</summary>
    public bool RenewalTried { get; init; }

    /// <summary>The served certificate is near its end or past it and was not remade: why.</summary>
    public string? NotRenewed { get; init; }

    /// <summary>The check itself failed (a bug, or an I/O error nobody expected).</summary>
    public Exception? Failure { get; init; }

    /// <summary>Disposes <see cref="Next"/>, for a result that arrives when the listener no longer serves anything.</summary>
    public void Discard()
    {
        if (Next is { Owned: true } next) next.Certificate.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() => $"CertificateChecked {{ Next = {Next?.Certificate.Thumbprint}, Renewed = {Renewed} }}";
}
