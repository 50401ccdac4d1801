/** Users, projects, memberships and API tokens: the tenancy model of one cluster. */
export type ProjectRole = 'member' | 'admin';

export interface User {
  id: string;
  name: string;
  displayName: string | null;
  /** Cluster administrators may manage users, every project and the node itself. */
  isAdmin: boolean;
  createdAt: Date;
}

export interface Project {
  id: string;
  name: string;
  description: string;
  createdAt: Date;
}

export interface ProjectMember {
  projectId: string;
  userId: string;
  userName: string;
  role: ProjectRole;
  addedAt: Date;
}

export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  /** The first characters of the secret, shown so a user can tell tokens apart; never the secret. */
  prefix: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

/** Who is making a request, resolved from a bearer token. */
export interface Principal {
  userId: string;
  userName: string;
  isAdmin: boolean;
  tokenId: string;
}
