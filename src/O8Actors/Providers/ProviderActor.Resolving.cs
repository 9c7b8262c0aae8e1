using Akka.Actor;
using Akka.Event;
using O8Actors.Callback;

namespace O8Actors.Providers;

/// <summary>
/// What the provider supports and a login's authorize URL: the behaviours before, during and after discovery (logins
/// wait in <c>_pending</c> while it runs), the background reads of the metadata a strategy reports, and the preparation
/// of each browser login (PKCE, DPoP key, redirect URI, step-up) once the provider is resolved.
/// </summary>
internal sealed partial class ProviderActor
{
    private void Unresolved()
    {
        Receive<PrepareAuthorization>(msg =>
        {
            _pending.Add((msg, Sender));
            StartResolving();
        });
        Receive<CheckBrowserLogin>(msg =>
        {
            _pending.Add((msg, Sender));
            StartResolving();
        });
        Receive<RequestDeviceCode>(msg =>
        {
            if (RefusedForStepUp(msg, Sender)) return;
            _pending.Add((msg, Sender));
            StartResolving();
        });
        TokenRequests();
    }

    /// <summary>
    /// Refuses a device login on a provider whose own parameters ask every login for <c>max_age</c> or
    /// <c>acr_values</c>: the device grant cannot carry them nor is its ID token held to them, so it would pass over the
    /// requirement. Answered as a provider without the device grant is (<see cref="LoginFailure.ProviderUnavailable"/>), so
    /// an Auto login goes on in the browser. True when refused (answered).
    /// </summary>
    private bool RefusedForStepUp(RequestDeviceCode msg, IActorRef replyTo)
    {
        if (_strategy.RequiredStepUp is null) return false;
        replyTo.Tell(new DeviceCodeRefused(new CodeExchangeFailed(msg.LoginId, LoginFailure.ProviderUnavailable,
            $"The provider '{_strategy.Name}' asks every login for max_age or acr_values (its AuthorizeParameters), which a device login " +
            "cannot carry nor show: sign in with the browser.", null) { BrowserMayServe = true }));
        return true;
    }

    private void StartResolving()
    {
        Become(Resolving);
        var strategy = _strategy;
        _startingDiscovery = true;
        var http = _httpClients();
        _startingDiscovery = false;
        RunWithTimeout(ct => strategy.ResolveAsync(http, ct), _exchangeTimeout)
            .PipeTo(Self, success: d => new Resolved(d), failure: e => new ResolveFailed(e));
    }

    private void Resolving()
    {
        Receive<PrepareAuthorization>(msg => _pending.Add((msg, Sender)));
        Receive<CheckBrowserLogin>(msg => _pending.Add((msg, Sender)));
        Receive<RequestDeviceCode>(msg =>
        {
            if (!RefusedForStepUp(msg, Sender)) _pending.Add((msg, Sender));
        });
        Receive<Resolved>(msg =>
        {
            _descriptor = msg.Descriptor;
            _log.Info("Provider {0} resolved (issuer {1}, iss parameter {2}, PKCE {3})",
                _strategy.Name, msg.Descriptor.Issuer ?? "unknown", msg.Descriptor.IssuerParameterSupported, msg.Descriptor.SupportsPkce);
            // Once per provider: public clients cannot get here without PKCE (their options and metadata are refused).
            if (!msg.Descriptor.SupportsPkce) WarnWithoutPkce();
            Become(Ready);
            // Each leaves the list before it is handed on: one that throws restarts the actor, whose PreRestart sends back to
            // it only those not handed on yet (it used to send every one, so the logins before it were prepared twice).
            // From the end, in arrival order.
            _pending.Reverse();
            while (_pending.Count > 0)
            {
                var (request, replyTo) = _pending[^1];
                _pending.RemoveAt(_pending.Count - 1);
                if (request is PrepareAuthorization prepare) Prepare(prepare, replyTo);
                else if (request is CheckBrowserLogin check) Check(check, replyTo);
                else Enqueue(request, replyTo);
            }
            StopIfDrained();
        });
        Receive<ResolveFailed>(msg =>
        {
            // Answer everyone who waited, then try again on the next login: discovery may recover.
            var reason = $"The provider '{_strategy.Name}' could not be resolved: {SafeReason(msg.Cause)}";
            _log.Warning(reason);
            foreach (var (request, replyTo) in _pending)
                // Not BrowserMayServe: a provider that could not be resolved may well offer the device grant, and an Auto
                // login asks for a device code only where no browser opens, so the browser would not serve it either.
                replyTo.Tell(ProviderRequestFailures.For(request, LoginFailure.ProviderUnavailable, reason));
            _pending.Clear();
            Become(Unresolved);
            StopIfDrained();
        });
        TokenRequests();
    }

    private void Ready()
    {
        Receive<PrepareAuthorization>(msg => Prepare(msg, Sender));
        Receive<CheckBrowserLogin>(msg => Check(msg, Sender));
        TokenRequests();
    }

    /// <summary>
    /// What a new login is prepared with: the latest metadata's when the strategy reads it again (a login already
    /// prepared keeps the descriptor it has), else the first resolution's.
    /// </summary>
    private ProviderDescriptor CurrentDescriptor =>
        (_strategy as IRefreshesMetadata)?.LatestDescriptor ?? _descriptor ?? ProviderDescriptor.Static;

    /// <summary>
    /// A background read of the metadata ended. A failed one is a warning (the metadata held stays in use, so logins go
    /// on); new metadata that changes what logins are prepared with is noted, as the first resolution is.
    /// </summary>
    private void MetadataRefreshed(MetadataRefreshed msg)
    {
        if (msg.Descriptor is not { } fresh)
        {
            _log.Warning("Provider {0}: its metadata could not be read again, the metadata read before stays in use and is read again in {1}: {2}",
                _strategy.Name, msg.RetryIn, msg.Problem ?? "unknown");
            return;
        }
        var before = _descriptor;
        _descriptor = fresh;
        if (before == fresh)
        {
            _log.Debug("Provider {0}: its metadata was read again", _strategy.Name);
            return;
        }
        _log.Info("Provider {0}: its metadata was read again and changed (issuer {1}, iss parameter {2}, PKCE {3})",
            _strategy.Name, fresh.Issuer ?? "unknown", fresh.IssuerParameterSupported, fresh.SupportsPkce);
        if (!fresh.SupportsPkce && before?.SupportsPkce != false) WarnWithoutPkce();
    }

    private void WarnWithoutPkce() =>
        _log.Warning("Provider {0} signs in without PKCE (a confidential client's opt-out, or metadata without S256): a stolen code is protected only by the client secret", _strategy.Name);

    /// <summary>A browser login's check before its listener binds: the refusal <see cref="Prepare"/> would answer, or acceptance.</summary>
    private void Check(CheckBrowserLogin msg, IActorRef replyTo) =>
        replyTo.Tell(BrowserLoginRefusal(msg.LoginId, msg.ExtraParameters) ?? (object)new BrowserLoginAccepted(msg.LoginId));

    /// <summary>
    /// Why this provider would not prepare a browser login asking for <paramref name="extraParameters"/>, before anything
    /// is built: the browser opens for nothing the token endpoint or the ID token's check would then refuse. Null: none.
    /// </summary>
    private ProviderUnavailable? BrowserLoginRefusal(string loginId, IReadOnlyDictionary<string, string> extraParameters)
    {
        if (!_strategy.RedeemsBrowserLoginCodes)
        {
            // The token endpoint would refuse the code only after the user approved. A provider that asks every login for a
            // step-up refuses device logins too (RefusedForStepUp): an Auto login sent there would only come back, so it is
            // not told the device grant may serve.
            var stepUp = _strategy.RequiredStepUp is not null;
            return new ProviderUnavailable(loginId, BrowserLoginUnredeemable(_strategy.Name, stepUp))
            {
                DeviceMayServe = CurrentDescriptor.SupportsDeviceAuthorization && !stepUp,
            };
        }
        var required = _strategy.RequiredStepUp;
        // Nothing would check the ID token for the step-up the login (or the provider's own parameters) asked for.
        if (!_strategy.EnforcesStepUp && (required is not null || StepUp.Asked(StepUp.WithProviderStepUp(extraParameters, required))))
            return new ProviderUnavailable(loginId, StepUp.Unenforced(_strategy), LoginFailure.IdTokenInvalid);
        return StepUp.AcrValuesOutsideProviders(extraParameters, required)
            ? new ProviderUnavailable(loginId, StepUp.AcrValuesRefused(_strategy.Name, required!), LoginFailure.IdTokenInvalid)
            : null;
    }

    private void Prepare(PrepareAuthorization msg, IActorRef replyTo)
    {
        if (BrowserLoginRefusal(msg.LoginId, msg.ExtraParameters) is { } refused)
        {
            replyTo.Tell(refused);
            return;
        }
        // The provider's own max_age or acr_values are a requirement on every login (checked on its ID token, as a
        // login's own are); the shorter of two max_age, and the login's acr_values that are among the provider's, go on the request.
        var required = _strategy.RequiredStepUp;
        var extraParameters = StepUp.WithProviderStepUp(msg.ExtraParameters, required);
        var descriptor = CurrentDescriptor;
        AuthorizeUrlBuild build;
        try
        {
            var redirectUri = RedirectUriFor(msg.RedirectUri);
            // The challenge goes out when the provider takes it; the app's PKCE switch drops it for a confidential client only.
            // The login learns whether it went out (and so sends the verifier or not).
            var challenge = descriptor.SupportsPkce && !(msg.PkceOffForConfidentialClient && _strategy.IsConfidentialClient) ? msg.CodeChallenge : null;
            var context = new AuthorizeUrlContext(
                msg.State,
                challenge,
                redirectUri,
                msg.Scopes,
                extraParameters,
                descriptor,
                msg.Nonce) { AccountKey = msg.AccountKey };
            // A key per login: the account it becomes keeps it with its tokens (RFC 9449).
            var dpopKey = descriptor.UsesDpop ? Dpop.DpopKey.Create() : null;
            if (dpopKey is not null) context = context with { DpopKeyThumbprint = dpopKey.Thumbprint };
            build = new AuthorizeUrlBuild(_strategy.Name, msg.LoginId, context, descriptor, redirectUri, dpopKey, PkceUsed: challenge is not null, required);
            if (!_strategy.AuthorizeUrlSendsARequest)
            {
                BuildAuthorizeUrl(build, replyTo);
                return;
            }
        }
        catch (Exception e)
        {
            replyTo.Tell(new ProviderUnavailable(msg.LoginId, $"The provider '{_strategy.Name}' could not build an authorize URL: {SafeReason(e)}"));
            return;
        }

        // A pushed request (RFC 9126) is a POST to the provider: it takes a token request's slot, as its code will. Queued
        // outside the try above: one that throws as the queue starts it restarts this actor, which answers it, as any
        // token request (caught here, it was answered twice and the actor kept a request it no longer ran).
        Enqueue(build, replyTo);
    }

    /// <summary>
    /// Builds <paramref name="build"/>'s authorize URL and answers <paramref name="replyTo"/> when it is ready: at once for
    /// a plain URL, when the provider answers for a pushed request (within the token-request timeout). Piped, so this
    /// actor never waits; a pushed request run from the queue answers through <see cref="AnswerWhenDone{T}"/> instead.
    /// </summary>
    private void BuildAuthorizeUrl(AuthorizeUrlBuild build, IActorRef replyTo) =>
        BuildingAuthorizeUrl(build, _httpClients()).PipeTo(replyTo, success: url => build.Prepared(url), failure: e => build.Unavailable(SafeReason(e)));

    private Task<Uri> BuildingAuthorizeUrl(AuthorizeUrlBuild build, HttpClient http)
    {
        var strategy = _strategy;
        var context = build.Context;
        return RunWithTimeout(ct => strategy.BuildAuthorizeUrlAsync(context, http, ct), _exchangeTimeout);
    }

    /// <summary>
    /// Why a browser login is refused on a public client whose provider redeems codes only for clients that authenticate;
    /// a device login is named as the way out only when the provider does not ask every login for a step-up
    /// (<paramref name="requiresStepUp"/>), which no device login can carry.
    /// </summary>
    private static string BrowserLoginUnredeemable(string provider, bool requiresStepUp) =>
        $"The provider '{provider}' has no client secret, and its token endpoint redeems a browser login's code only for a " +
        "client that authenticates (GitHub answers incorrect_client_credentials), so the browser login was refused before " +
        "any browser opened. " + (requiresStepUp
            ? "Give the provider its client secret (ClientSecret): a device login cannot serve it either, as its AuthorizeParameters ask every login for max_age or acr_values."
            : "Give the provider its client secret (ClientSecret), or sign in with a device login (LoginMethod.Device).");

    /// <summary>
    /// The provider's redirect URI for a login that came with the listener's <paramref name="listenerUri"/>; compared by
    /// its exact string (Uri equality ignores user info and the host's case, and a redirect URI is compared byte for byte).
    /// </summary>
    private Uri RedirectUriFor(Uri listenerUri)
    {
        if (_redirectPath is null) return listenerUri;
        if (_redirectUris is { } known && (ReferenceEquals(known.Listener, listenerUri) ||
            string.Equals(known.Listener.OriginalString, listenerUri.OriginalString, StringComparison.Ordinal)))
            return known.Provider;
        var provider = RedirectPaths.WithPath(listenerUri, _redirectPath);
        _redirectUris = (listenerUri, provider);
        return provider;
    }
}
