// A small typed client over the generated types (api.d.ts, from the OpenAPI
// schema): if the schema loses a type, a field or an operation a client needs,
// this stops compiling. `npm run check` generates and compiles it.
import type { components, paths } from "./api";

type Schemas = components["schemas"];
type Member = Schemas["Member"];
type Invitation = Schemas["Invitation"];

async function call<T>(path: string, init: RequestInit, token: string): Promise<T> {
  const response = await fetch(`http://127.0.0.1:8000${path}`, {
    ...init,
    headers: { Authorization: `Token ${token}`, "Content-Type": "application/json" },
  });
  if (!response.ok) {
    const error = (await response.json()) as Schemas["Error"];
    throw new Error(`${error.status} ${error.code}: ${error.detail}`);
  }
  return (await response.json()) as T;
}

export async function acceptInvitation(
  token: string,
  body: Schemas["InvitationAcceptRequest"],
): Promise<Invitation> {
  const accepted = await call<Invitation>(
    "/api/community/community-invitations/accept/",
    { method: "POST", body: JSON.stringify(body) },
    token,
  );
  const status: Schemas["InvitationStatusEnum"] = accepted.status;
  if (status !== "accepted" || accepted.accepted_by === null) {
    throw new Error("not accepted");
  }
  return accepted;
}

export async function leaderboard(token: string): Promise<string[]> {
  type Page =
    paths["/api/community/community-members/"]["get"]["responses"]["200"]["content"]["application/json"];
  const page = await call<Page>(
    "/api/community/community-members/?ordering=-reputation_score",
    { method: "GET" },
    token,
  );
  return page.results.map(
    (member: Member) => `${member.member_id} ${member.name} (${member.reputation_tier ?? "Novice"})`,
  );
}

export async function recordEvents(
  token: string,
  events: Schemas["ParticipationEventRequest"][],
): Promise<number> {
  const body: Schemas["ParticipationBatchRequest"] = { events };
  const result = await call<Schemas["ParticipationBatchResult"]>(
    "/api/community/member-participation/batch/",
    { method: "POST", body: JSON.stringify(body) },
    token,
  );
  return result.events.length;
}

export const example: Schemas["ParticipationEventRequest"] = {
  member_id: "#1",
  event_type: "VOICE",
  platform: "telegram",
  room_id: "general",
  event_metadata: { minutes: 12 },
};
