"""Install mtkd_mm: ``pip install .`` or ``pip install -e .`` (add
``[tests]`` for the test tools).

The OpenMMLab packages are listed in ``requirements/mminstall.txt`` and are
installed separately (mmcv must be built for the installed torch): the
README's "On a fresh machine" and "GPU machines" say how. As mmdet does, the
package carries its configs and tools in ``mtkd_mm/.mim`` (symbolic links
in the repository, copies in a wheel): ``mtkd_mm::…`` config references and
``mim train mtkd_mm CONFIG`` work from an installed package.
"""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_requirements(name):
    """Requirement lines of ``requirements/<name>.txt`` without comments."""
    lines = (HERE / 'requirements' / f'{name}.txt').read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith('#')]


def read_version():
    namespace = {}
    exec((HERE / 'mtkd_mm' / 'version.py').read_text(), namespace)
    return namespace['__version__']


setup(
    name='mtkd_mm',
    version=read_version(),
    description='Multi-teacher knowledge distillation with per-sample '
    'teacher weighting (AVER, EBKD, CA-MKD, AEKD, MTKD-RL) for MMDetection, '
    'MMSegmentation and MMPretrain',
    long_description=(HERE / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.8',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    package_data={
        'mtkd_mm': ['.mim/model-index.yml', '.mim/configs/**/*.py',
                    '.mim/tools/**/*.py', '.mim/tools/**/*.sh']
    },
    install_requires=read_requirements('runtime'),
    extras_require={
        'mim': read_requirements('mminstall'),
        'tests': read_requirements('tests'),
    },
    classifiers=[
        'License :: OSI Approved :: Apache Software License',
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
