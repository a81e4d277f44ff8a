// Every GraphQL document the page sends, in one place: each exported constant is an
// operation; the constants not exported are pieces spread into them with ${…}. The suite validates each
// against the schema (tests/test_page.py), so a renamed field fails there, not in a
// manager's browser; frontend developers can read this file as worked examples.

const OWNER = `
  owner {
    __typename
    ... on OrgUnit { id name nameEn }
    ... on Person { id name nameEn }
  }`;

const NODE_FIELDS = `
  fragment NodeFields on GoalNode {
    id kind title titleEn progress score health
    ${OWNER}
    ... on Kpi { unit currentValue target threshold valuesVisible
      feeds { keyResult { id } } }
    ... on KeyResult { unit currentValue targetValue }
  }`;

/** Three levels at once; deeper branches load when opened (CHILDREN). */
export const GOAL_TREE = `
  query GoalTree {
    goalTree {
      ...NodeFields
      children { ...NodeFields
        children { ...NodeFields
          children { id } } }
    }
  }
  ${NODE_FIELDS}`;

/** A node's children, two levels, when it is opened (any goal node: goalTree's rootId
 *  takes objectives only). */
export const CHILDREN = `
  query Children($id: ID!) {
    node(id: $id) {
      ... on GoalNode { id children { ...NodeFields children { ...NodeFields children { id } } } }
    }
  }
  ${NODE_FIELDS}`;

/** The top-level objectives: the roots live updates are subscribed under. */
export const ROOT_IDS = `query RootIds { goalTree(depth: 1) { id } }`;

/** The whole graph, for search: eight levels (deeper branches still load when opened). */
export const GOAL_TREE_ALL = `
  query GoalTreeAll {
    goalTree {
      ...NodeFields children { ...NodeFields children { ...NodeFields children { ...NodeFields
        children { ...NodeFields children { ...NodeFields children { ...NodeFields
          children { ...NodeFields children { id } } } } } } } }
    }
  }
  ${NODE_FIELDS}`;

export const EXPLAIN = `
  query Explain($id: ID!) {
    node(id: $id) {
      __typename
      ... on Kpi { id title titleEn metricCode unit scoringPolicy score
        lineage: explain { policy value target threshold direction achievement formula score note }
        feeds { weight keyResult { id title titleEn } } }
      ... on KeyResult { id title titleEn score explain unit startValue targetValue currentValue
        kpiLinks { weight } }
      ... on Objective { id title titleEn score explain }
    }
  }`;

export const VIEWER = `
  query Viewer {
    viewer {
      role
      tokenExpiresAt
      person { id name nameEn orgUnit { id name nameEn } }
      tenant { slug name nameEn lifecycleStage }
    }
  }`;

export const SIGN_IN = `
  mutation SignIn($tenant: String!, $email: String!, $password: String!) {
    signIn(tenant: $tenant, email: $email, password: $password) {
      session { accessToken refreshToken }
      errors { code message field }
    }
  }`;

export const REFRESH_SESSION = `
  mutation Refresh($refreshToken: String!) {
    refreshSession(refreshToken: $refreshToken) {
      session { accessToken refreshToken }
      errors { code message }
    }
  }`;

export const SIGN_OUT = `mutation SignOut { signOut { signedOut errors { code message } } }`;

/** A check-in on a key result measured by hand; answers the key result as it now is. */
export const CHECK_IN = `
  mutation CheckIn($input: CheckInInput!) {
    checkIn(input: $input) {
      checkIn { value createdAt }
      keyResult { id progress score health currentValue }
      errors { code message field }
    }
  }`;

// --- trends ------------------------------------------------------------------------

export const KPI_TREND = `
  query KpiTrend($kpiId: ID!, $since: Date) {
    kpi(id: $kpiId) {
      id title titleEn unit target threshold direction currentValue health valuesVisible
      ${OWNER}
    }
    measurements(kpiId: $kpiId, since: $since, first: 500) {
      totalCount
      edges { node { periodStart value source } }
    }
  }`;

export const KPI_LIST = `
  query KpiList($after: String) {
    kpis(first: 100, after: $after, status: ACTIVE) {
      pageInfo { hasNextPage endCursor }
      edges { node { id title titleEn health ${OWNER} } }
    }
  }`;

// --- scorecards --------------------------------------------------------------------

export const PICKERS = `
  query Pickers {
    lifecycleStages { name label { zh en } }
    cycles(first: 50) { edges { node { id name nameEn closed startsOn } } }
    orgUnits(first: 500) { edges { node { id name nameEn kind depth } } }
    people(first: 50) { edges { node { id name nameEn jobTitle } } }
  }`;

/** People by name, English name, email or employee number, for the person picker. */
export const PEOPLE_SEARCH = `
  query PeopleSearch($search: String!) {
    people(search: $search, first: 50) { edges { node { id name nameEn jobTitle } } }
  }`;

const SCORECARD_FIELDS = `
  stage okrShare kpiShare okrGrade kpiScore combinedScore frozen
  cycle { id name nameEn }
  person { id name nameEn jobTitle }
  orgUnit { id name nameEn }
  objectives { grade objective { id title titleEn } }
  keyResults { grade keyResult { id title titleEn } }
  kpis { score kpi { id title titleEn unit currentValue target health } }`;

export const SCORECARD = `
  query Scorecard($personId: ID, $orgUnitId: ID, $cycleId: ID, $asOf: DateTime) {
    scorecard(personId: $personId, orgUnitId: $orgUnitId, cycleId: $cycleId, asOf: $asOf) {
      ${SCORECARD_FIELDS}
    }
  }`;

export const UNIT_SCORECARD = `
  query UnitScorecard($orgUnitId: ID!, $cycleId: ID, $asOf: DateTime) {
    scorecard(orgUnitId: $orgUnitId, cycleId: $cycleId, asOf: $asOf) { ${SCORECARD_FIELDS} }
    ranking(orgUnitId: $orgUnitId, cycleId: $cycleId, asOf: $asOf) {
      rank
      person { id name nameEn jobTitle }
      scorecard { okrGrade kpiScore combinedScore }
    }
  }`;

// --- stage switch ------------------------------------------------------------------

export const STAGES = `
  query Stages {
    tenant { slug name nameEn lifecycleStage weightings { stage okrShare kpiShare custom } }
    lifecycleStages { name label { zh en } okrShare kpiShare current pack }
    orgUnits(kind: COMPANY, first: 1) { edges { node { id name nameEn } } }
  }`;

const SIMULATION_FIELDS = `
  stageBefore okrShareBefore kpiShareBefore stageAfter okrShareAfter kpiShareAfter
  people { person { id name nameEn } before after rankBefore rankAfter }
  units { orgUnit { id name nameEn } before after rankBefore rankAfter }`;

export const SIMULATE = `
  query Simulate($orgUnitId: ID!, $stage: String!) {
    simulateWeighting(orgUnitId: $orgUnitId, stage: $stage) {
      ${SIMULATION_FIELDS}
    }
  }`;

/** The current stage under explicit shares (a weighting of its own). */
export const SIMULATE_SHARES = `
  query SimulateShares($orgUnitId: ID!, $stage: String!, $okrShare: Float!, $kpiShare: Float!) {
    simulateWeighting(orgUnitId: $orgUnitId, stage: $stage, okrShare: $okrShare, kpiShare: $kpiShare) {
      ${SIMULATION_FIELDS}
    }
  }`;

export const SET_WEIGHTING = `
  mutation SetWeighting($stage: String!, $okrShare: Float!, $kpiShare: Float!) {
    setStageWeighting(stage: $stage, okrShare: $okrShare, kpiShare: $kpiShare) {
      tenant { lifecycleStage weightings { stage okrShare kpiShare custom } }
      errors { code message field }
    }
  }`;

export const SET_STAGE = `
  mutation SetStage($stage: String!) {
    setLifecycleStage(stage: $stage) {
      tenant { lifecycleStage }
      errors { code message field }
    }
  }`;

// --- the loop ----------------------------------------------------------------------

export const LOOP = `
  query Loop {
    alerts(status: OPEN) {
      id kind misses createdAt evidence
      kpi { id title titleEn unit target threshold ${OWNER} }
    }
    recommendations(status: PROPOSED) {
      id courseCode title titleEn hours status evidence createdAt
      person { id name nameEn }
      kpi { id title titleEn unit target }
    }
    adjustments(status: PROPOSED) {
      id currentTarget suggestedTarget attainment reason reasonEn evidence status createdAt
      orgUnit { id name nameEn }
      keyResult { id title titleEn unit }
    }
  }`;

/** The cross report (交叉分析报告) and its disconnects (断层点), per org unit. */
export const CROSS_REPORT = `
  query CrossReport {
    lifecycleStages { name label { zh en } }
    crossReport {
      cycleName stage okrShare kpiShare
      rows {
        okrGrade kpiScore combinedScore alerts
        orgUnit { id name nameEn }
        laggingKpis { id title titleEn }
        disconnects { kind }
      }
      disconnects {
        kind periods strength evidence
        reason { zh en }
        objective { id title titleEn }
        kpi { id title titleEn }
        outcome { id title titleEn }
      }
    }
  }`;

export const ACCEPT_RECOMMENDATION = `
  mutation AcceptRecommendation($id: ID!) {
    acceptRecommendation(id: $id) { recommendation { id status } errors { code message } }
  }`;

export const DISMISS_RECOMMENDATION = `
  mutation DismissRecommendation($id: ID!) {
    dismissRecommendation(id: $id) { recommendation { id status } errors { code message } }
  }`;

export const ACCEPT_ADJUSTMENT = `
  mutation AcceptAdjustment($id: ID!) {
    acceptAdjustment(id: $id) { adjustment { id status } errors { code message } }
  }`;

export const DISMISS_ADJUSTMENT = `
  mutation DismissAdjustment($id: ID!) {
    dismissAdjustment(id: $id) { adjustment { id status } errors { code message } }
  }`;

// --- packs -------------------------------------------------------------------------

export const PACKS = `
  query Packs {
    packs { name version title { zh en } industries status error active enabledStages
      stageNames kpiTemplateCount }
    lifecycleStages { name label { zh en } }
    orgUnits(first: 500) { edges { node { id name nameEn depth kind } } }
    people(first: 200) { edges { node { id name nameEn } } }
  }`;

export const KPI_TEMPLATES = `
  query KpiTemplates($pack: String!) {
    kpiTemplates(pack: $pack) {
      pack code name { zh en } description { zh en } unit direction frequency
      defaultTarget defaultThreshold suggestedWeight level stages
    }
  }`;

export const ENABLE_PACK = `
  mutation EnablePack($name: String!, $stages: [String!]!) {
    enablePack(name: $name, stages: $stages) {
      pack { name active enabledStages }
      errors { code message field }
    }
  }`;

export const DISABLE_PACK = `
  mutation DisablePack($name: String!) {
    disablePack(name: $name) { pack { name active enabledStages } errors { code message } }
  }`;

export const CREATE_KPI_FROM_TEMPLATE = `
  mutation CreateKpiFromTemplate($input: CreateKpiFromTemplateInput!) {
    createKpiFromTemplate(input: $input) {
      kpi { id title titleEn target threshold }
      errors { code message field }
    }
  }`;

// --- live --------------------------------------------------------------------------

export const GOAL_PROGRESS = `
  subscription GoalProgress($rootId: ID!) {
    goalProgress(rootId: $rootId) {
      weightingChanged resync
      changes { progress score
        node { id progress score health ... on Kpi { currentValue } ... on KeyResult { currentValue } } }
    }
  }`;

export const ALERTS = `
  subscription Alerts { alerts { alertId kind resync } }`;
