// The warning at registration: before a household or a member is saved, the households this
// replica holds that look like the same family (with why), and, when the server could be asked,
// the groups that already registered the national ID. The worker opens that household instead,
// or says it is a different family and saves.
import { useEffect, useRef } from "preact/hooks";
import { api, type RegisteredGroup, type RegistrationMatch, type UiError } from "../api";
import { faDigits } from "../format";
import { t } from "../i18n";
import { BandBadge, Reasons } from "../screens/Duplicates";

/** What the server said of a national ID: the groups holding it, or why it could not say. */
export type ServerAnswer = { groups: RegisteredGroup[] } | { unreachable: true } | null;

/** Asks the server which groups registered `nationalId`; an unreachable server (or one this
 * replica is not enrolled with) is not an error at the door: the local check still stands. */
export async function askServer(nationalId: string | null | undefined): Promise<ServerAnswer> {
  if (!nationalId?.trim()) return null;
  try {
    return { groups: await api.lookupNationalId(nationalId) };
  } catch (e) {
    const code = (e as UiError)?.code;
    if (code === "not_enrolled" || code === "invalid") return null;
    return { unreachable: true };
  }
}

/** Whether there is anything to warn about. */
export function worthWarning(matches: RegistrationMatch[], server: ServerAnswer): boolean {
  return matches.length > 0 || (!!server && "groups" in server && server.groups.length > 0);
}

/** Shown where the form starts, and scrolled into view: a warning below the fold is missed. */
export function MatchWarning({
  matches,
  server,
  open,
  proceed,
}: {
  matches: RegistrationMatch[];
  server: ServerAnswer;
  open: (id: string) => void;
  /** "A different family": save anyway. */
  proceed: () => void;
}) {
  const box = useRef<HTMLElement>(null);
  useEffect(() => {
    box.current?.scrollIntoView?.({ block: "nearest" });
  }, []);
  return (
    <section class="card warning" id="registration-warning" role="alert" ref={box}>
      <h3>{t("matchesFound")}</h3>
      <p class="hint">{t("matchesHint")}</p>
      {matches.length > 0 && (
        <ul class="matches">
          {matches.map((m) => (
            <li key={m.household.id} class="match" data-id={m.household.id}>
              <strong>{m.household.head_name}</strong> — {m.household.district} — {t("group")}:{" "}
              <bdi>{m.household.assigned_group ?? "—"}</bdi> — {faDigits(m.household.member_count)} {t("membersCount")}
              <BandBadge band={m.band} />
              <Reasons reasons={m.reasons} />
              <button type="button" class="open-match" onClick={() => open(m.household.id)}>
                {t("openThat")}
              </button>
            </li>
          ))}
        </ul>
      )}
      {server && "groups" in server && server.groups.length > 0 && (
        <ul class="server-matches" id="server-matches">
          {server.groups.map((g) => (
            <li key={g.group_id} data-group={g.group_id}>
              {t("registeredInGroup")} <strong>{g.group_name}</strong> (<bdi>{g.group_id}</bdi>)
            </li>
          ))}
        </ul>
      )}
      {server && "unreachable" in server && <p class="hint">{t("lookupOffline")}</p>}
      <div class="actions">
        <button type="button" class="secondary" id="save-anyway" onClick={proceed}>
          {t("saveAnyway")}
        </button>
      </div>
    </section>
  );
}
