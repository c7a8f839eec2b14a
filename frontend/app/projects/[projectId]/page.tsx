'use client';
import { Suspense } from 'react';
import { useParams } from 'next/navigation';
import { RequireAuth } from '@/components/auth';
import { ProjectView, ProjectSkeleton } from '@/project/ProjectView';

export default function ProjectPage() {
  const { projectId } = useParams<{ projectId: string }>();
  return (
    <RequireAuth fallback={<ProjectSkeleton />}>
      <Suspense fallback={<ProjectSkeleton />}>
        <ProjectView projectId={projectId} />
      </Suspense>
    </RequireAuth>
  );
}
