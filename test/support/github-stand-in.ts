// The GitHub stand-in now lives in the product (lib/demo/github), where npm start -- --demo
// serves it; tests keep importing it from here, scripted as before.
export { GitHubStandIn, type StandInApp, type StandInTeam, type StandInUser } from '../../lib/demo/github/github-server.js';
