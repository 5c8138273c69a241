"""What to do about a verdict: the attack it looks like, actions, advice, the summary line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from acctsec.core.signals import FRAUD, TAKEOVER, Signal
from acctsec.core.verdict import Scores, Verdict


@dataclass(frozen=True, slots=True)
class Action:
    action: str
    reason: str


ADVICE = {
    "phishing": [
        "Sign in only by typing the exchange's address yourself or from a bookmark; never "
        "through a link in an e-mail, text message or advert.",
        "Set an anti-phishing code so every genuine e-mail from us shows it.",
        "Replace SMS and authenticator codes with a passkey or hardware security key: they "
        "cannot be relayed by a fake login page.",
        "Change your password and the password of your e-mail account.",
    ],
    "sim_swap": [
        "Ask your mobile carrier for a port-out / SIM-change PIN or lock on your number.",
        "Remove SMS as a sign-in and recovery method; use an authenticator app, passkey or "
        "hardware key instead.",
        "Change your password and check that the phone number and e-mail on the account are "
        "yours.",
    ],
    "stolen_session": [
        "Scan your computer for malware (info-stealers take session cookies) and remove browser "
        "extensions you do not recognise.",
        "Sign out of all sessions, then change your password from a clean device.",
        "Do not paste cookies, HAR files or console commands that anyone asks you for.",
    ],
    "credential_stuffing": [
        "Your password was most likely leaked from another website: choose a new, unique "
        "password here, ideally from a password manager.",
        "Change it on every other site where you used the same password.",
        "Turn on two-factor authentication with an authenticator app, passkey or hardware key.",
    ],
    "stuffing_target": [
        "Someone tried to sign in to your account with your e-mail address and passwords "
        "leaked from other websites; they did not get in.",
        "If you use the same password anywhere else, change it there and here, ideally to "
        "unique ones from a password manager.",
        "Turn on two-factor authentication with an authenticator app, passkey or hardware key.",
    ],
    "slow_takeover": [
        "Secure your e-mail account first (new password, two-factor authentication, check "
        "forwarding rules): someone who waits days before acting often reads your e-mail "
        "to hide our warnings.",
        "Change your exchange password and review every device and API key on the account.",
    ],
    "account_recovery": [
        "Someone convinced our support team to move your account's e-mail or second factor "
        "to them; we are restoring yours. Expect us to ask for stronger proof next time.",
        "Secure the e-mail account and phone number on file (new passwords, two-factor "
        "authentication): they are what a recovery request is checked against.",
        "Be wary of anyone who contacts you claiming to be our support.",
    ],
    "leaked_api_key": [
        "Delete every API key and create new ones only where needed, without withdraw "
        "permission unless you must, and always with an IP whitelist.",
        "Check where the key was stored or pasted (bots, trading tools, code repositories, "
        "browser extensions): that is where it leaked.",
    ],
    "unfamiliar_access": [
        "If you did not sign in from the device and place shown, change your password and turn "
        "on two-factor authentication.",
        "Review the devices, API keys and withdrawal addresses on your account.",
    ],
}


# Someone who talks support into moving the account's e-mail or 2FA to them signs in
# within days, before the owner notices.
RECOVERED_THEN_USED = timedelta(days=3)
# Stuffing tools only check which passwords work; whoever buys the "hits" signs in
# with a browser of their own, hours or days later.
CHECKED_THEN_USED = timedelta(days=14)


def attack_kind(signals: list[Signal], scores: Scores,
                everything: list[Signal] | None = None) -> str | None:
    """The takeover technique the evidence fits best, for advice and the summary.
    `everything`: all the report's signals, for a stuffing tool's check on another actor
    shortly before the decisive actor appeared."""
    ids = {s.id for s in signals}
    if "session_hijack" in ids:
        return "stolen_session"
    if "sms_reset_new_device" in ids:
        return "sim_swap"
    if "credential_stuffing_success" in ids or "password_guessing" in ids:
        return "credential_stuffing"
    top = scores.top_actor
    if top is not None and any(
            s.id == "credential_stuffing_success" and s.ts is not None
            and timedelta(0) <= top.actor.first_seen - s.ts <= CHECKED_THEN_USED
            for s in everything or []):
        return "credential_stuffing"
    if top is not None and any(
            s.id == "out_of_band_recovery" and s.ts is not None
            and timedelta(0) <= top.actor.first_seen - s.ts <= RECOVERED_THEN_USED
            for s in everything or signals):
        return "account_recovery"
    if any(s.id == "withdrawal_without_sign_in" and "api_key" in s.evidence for s in signals) \
            or (top is not None and top.actor.is_api):
        return "leaked_api_key"
    if top is not None and top.actions:
        first_change = min((s.ts for s in top.actions if s.id == "security_change" and s.ts),
                           default=None)
        money = [s.ts for s in top.actions if s.id == "withdrawal_to_new_address" and s.ts]
        if first_change and money and (min(money) - first_change).total_seconds() > 86400:
            return "slow_takeover"
    if top is not None and top.unfamiliar:
        return "phishing"
    return None


def actions_for(verdict: Verdict, signals: list[Signal], attack: str | None) -> list[Action]:
    if verdict.label == "takeover":
        return _takeover_actions(signals, attack)
    if verdict.label == "fraud":
        from acctsec.core.fraud import fraud_actions

        found = [Action(a["action"], a["reason"]) for a in fraud_actions(signals)]
        return found or [Action("freeze_account", "the holder appears to be the bad actor"),
                         Action("hold_funds", "keep the balance until the review ends")]
    if verdict.leaning == "fraud":
        return [Action("manual_review", "the evidence points at the holder but is not enough "
                       "to act on; review before the customer hears of it")]
    if verdict.label == "suspicious":
        return [Action("manual_review", "evidence is not enough either way"),
                Action("contact_customer", "confirm the unfamiliar activity over a channel "
                       "on file before the change")]
    if _stuffing_target(signals):
        return [Action("advise_password_change", "a credential-stuffing campaign tried this "
                       "account's password and did not get in; a reused password will be "
                       "tried again")]
    return []


def _stuffing_target(signals: list[Signal]) -> bool:
    return any(s.id == "credential_stuffing_attempts" for s in signals)


def _takeover_actions(signals: list[Signal], attack: str | None) -> list[Action]:
    ids = {s.id for s in signals}
    events = {str(s.evidence.get("event")) for s in signals if s.id == "security_change"}
    if attack == "account_recovery":  # what support changed just before counts as changed
        acted = [s.ts for s in signals if s.ts is not None and s.weight > 0
                 and s.id != "out_of_band_recovery"]
        start = min(acted, default=None)
        events |= {str(s.evidence.get("event")) for s in signals
                   if s.id == "out_of_band_recovery" and s.ts is not None and start is not None
                   and timedelta(0) <= start - s.ts <= RECOVERED_THEN_USED}
    out = [Action("restrict_withdrawals", "someone other than the owner used the account"),
           Action("revoke_sessions", "end every session, including the attacker's")]
    if "api_key_create" in events:
        out.append(Action("revoke_api_keys", "an API key was created by the attacker"))
    elif attack == "leaked_api_key":
        out.append(Action("revoke_api_keys", "money left through an API key, not a sign-in"))
    if events & {"mfa_disable", "mfa_reset", "mfa_enable", "phone_change"} or attack == "sim_swap":
        out.append(Action("reset_2fa", "the second factor was changed or bypassed"))
    if events & {"email_change", "phone_change"}:
        out.append(Action("restore_contact_details", "the e-mail or phone was changed"))
    if attack == "account_recovery":
        out.append(Action("review_support_recovery", "the account's recovery was changed "
                          "out of band just before the intruder signed in: review the "
                          "request, the checks made and who approved it"))
    if "withdrawal_address_add" in events:
        out.append(Action("remove_withdrawal_addresses", "addresses added by the attacker"))
    if "withdrawal_to_new_address" in ids:
        out.append(Action("trace_funds", "follow the withdrawals and ask the receiving "
                          "service to freeze them"))
    out.append(Action("verify_owner", "re-verify identity before restoring access"))
    return out


def advice_for(verdict: Verdict, attack: str | None, signals: list[Signal]) -> list[str]:
    """Customer-facing advice: for victims, and targets of stuffing; a bad actor gets none."""
    if verdict.label == "clear" and _stuffing_target(signals):
        return list(ADVICE["stuffing_target"])
    if verdict.label not in ("takeover", "suspicious") or verdict.leaning == "fraud":
        return []
    return list(ADVICE.get(attack or "unfamiliar_access", ADVICE["unfamiliar_access"]))


ATTACK_NAMES = {
    "phishing": "phishing or a relayed (AiTM) login",
    "sim_swap": "a SIM swap",
    "stolen_session": "a stolen session",
    "credential_stuffing": "credential stuffing",
    "slow_takeover": "a slow takeover",
    "leaked_api_key": "a leaked API key",
    "account_recovery": "an account-recovery request through support",
}


FAINT = 0.5


def summary(verdict: Verdict, signals: list[Signal], attack: str | None) -> str:
    """One or two sentences an analyst can paste into a case note."""
    wanted = FRAUD if verdict.label == "fraud" or verdict.leaning == "fraud" else TAKEOVER
    pointing = [s for s in signals if s.weight > 0 and s.direction == wanted]
    top = sorted(pointing or [s for s in signals if s.weight > 0], key=lambda s: -s.weight)[:3]
    # A faint finding ("... and nothing else: namesakes look like this") beside strong ones
    # only muddles a case note.
    top = [s for s in top if s.weight >= FAINT] or top
    because = "; ".join(s.explanation for s in top)
    if verdict.label == "takeover":
        how = ATTACK_NAMES.get(attack or "", "an unfamiliar device")
        return f"Account taken over, most likely by {how}: {because}."
    if verdict.label == "fraud":
        return f"The holder appears to be the bad actor: {because}."
    if verdict.label == "suspicious":
        return f"Needs a person's look: {because}."
    if top:
        return f"Activity looks like the owner's own; weaker findings: {because}."
    return "Activity looks like the owner's own; no finding points elsewhere."
