// The tenant's Policy Decision Point metadata (AuthZEN, Policy Decision Point Metadata): its
// identifier is the issuer, and it names the two evaluation endpoints (no search APIs, so none
// listed: an absent parameter tells the PEP the PDP does not offer it).
export function authzenConfiguration(issuer: string) {
  return {
    policy_decision_point: issuer,
    access_evaluation_endpoint: `${issuer}/access/v1/evaluation`,
    access_evaluations_endpoint: `${issuer}/access/v1/evaluations`,
  };
}
